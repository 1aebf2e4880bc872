-- fcode-attempt-record.lua: counts one wrong F-code from a network address in a fixed window (the
-- brute-force brake per address). INCR and the expiry are one atomic step, so a counter can never be
-- left without a TTL (which would lock its address out for good).
--
-- KEYS[1]  the attempt counter   `RedisKeys.fcodeAttempts('ip', subject)` (no sale hash tag)
--
-- ARGV[1]  window length in ms; the window starts at the first failure
--
-- Returns {failures, ttlMs}: failures counted in the current window, and ms until the window ends.

local failures = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {failures, ttl}
