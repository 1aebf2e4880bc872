-- release-lock.lua: releases a lock only if this caller still holds it (a lock that expired and was taken by another
-- process is left alone).
--
-- KEYS[1]  the lock                     `RedisKeys.rebuildLock`
-- ARGV[1]  the holder's token, as set with SET NX PX
--
-- Returns 1 when released, 0 when the lock was not (or no longer) this holder's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
