-- ping.lua: proves the script registry works (used by the health of scripts in tests).
-- KEYS: none
-- ARGV[1]: a value to echo back
-- Returns: ARGV[1]
return ARGV[1]
