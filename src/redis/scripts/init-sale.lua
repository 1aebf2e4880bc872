-- init-sale.lua: creates a sale's `sale` hash only if it does not exist yet, in one step. Used when a sale
-- is created and when its Redis state is rebuilt from the database at boot: an existing hash is never
-- touched, so live stock is never re-seeded from a stale or initial value (two instances restoring the
-- same sale at once: the first one wins, the second changes nothing).
--
-- KEYS[1]  sale hash                    `sale`
--
-- ARGV     field, value, field, value, … (every field of the `sale` hash in src/redis/redis-keys.ts)
--
-- Returns 1 when the hash was created, 0 when it already existed (nothing written).

if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
