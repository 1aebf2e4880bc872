-- restore-buyers.lua: part of rebuilding a sale's lost Redis state from the database (boot restore). Fills
-- in the `buyers` hash (units each buyer holds in live orders), but only while the sale's `sale` hash is
-- still absent: once it exists (this or another instance finished the restore) purchases may be running,
-- and nothing may be overwritten. Existing entries are kept (HSETNX).
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  buyers hash                  `buyers`
--
-- ARGV     userId, units, userId, units, …
--
-- Returns the number of entries added, or -1 when the sale hash exists (nothing written).

if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local added = 0
for index = 1, #ARGV, 2 do
  added = added + redis.call('HSETNX', KEYS[2], ARGV[index], ARGV[index + 1])
end
return added
