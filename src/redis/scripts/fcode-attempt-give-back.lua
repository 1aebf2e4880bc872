-- fcode-attempt-give-back.lua: gives back an F-code attempt taken by fcode-attempt-take.lua, because the
-- code was not a wrong one (it was accepted, already used, expired, or the purchase failed for another
-- reason). Never goes below 0 and never creates the counter: if the window ended meanwhile, there is
-- nothing to give back.
--
-- KEYS[1]  the attempt counter   `RedisKeys.fcodeAttempts('user', userId)` (no sale hash tag)
--
-- Returns the attempts still counted in the window.

local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
if counted <= 0 then return 0 end
return redis.call('DECR', KEYS[1])
