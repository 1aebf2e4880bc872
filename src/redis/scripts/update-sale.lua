-- update-sale.lua: sets settings fields of an existing sale's `sale` hash (PATCH, pause, resume). A hash
-- that is missing is left missing: a partial hash with no stock counters would look like a sale to the
-- purchase script, so only init-sale.lua may create one.
--
-- KEYS[1]  sale hash                    `sale`
--
-- ARGV     field, value, field, value, … (settings fields only; never the counters)
--
-- Returns 1 when the fields were written, 0 when the sale has no hash (nothing written).

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
