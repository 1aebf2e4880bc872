-- fcode-attempt-take.lua: takes one F-code attempt from a buyer's allowance of wrong codes per fixed
-- window (the brute-force brake per account). The attempt is counted before the code is tried, in the
-- same atomic step as the check, so that a burst of parallel guesses cannot all pass the check before
-- any of them is counted; an attempt whose code turns out not to be wrong is given back
-- (fcode-attempt-give-back.lua).
--
-- KEYS[1]  the attempt counter   `RedisKeys.fcodeAttempts('user', userId)` (no sale hash tag)
--
-- ARGV[1]  allowance: attempts counted per window
-- ARGV[2]  window length in ms; the window starts at the first counted attempt
--
-- Returns {taken, ttlMs}: taken is 1 when the attempt was counted, 0 when the allowance is used up;
-- ttlMs is the time until the window ends.

-- The time left in the counter's window, starting the window if the counter has no expiry yet (a
-- counter never stays without one: a full counter would lock its user or address out for good).
local function windowLeft()
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return ttl
end

local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
if counted >= tonumber(ARGV[1]) then
  return {0, windowLeft()}
end
redis.call('INCR', KEYS[1])
return {1, windowLeft()}
