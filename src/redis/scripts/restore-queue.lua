-- restore-queue.lua: part of rebuilding a sale's lost Redis state from the database: puts a waiting room's
-- line back, but only while the sale's `sale` hash is still absent (see restore-buyers.lua). Each call
-- adds a batch of buyers with their places (and when they first saw their admission, if they did) and
-- sets the line's state: the places admitted, the arrivals after the start, and admission accruing from
-- `now` (nothing is owed for the time Redis was without the line: no burst of admissions after it).
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  the line (sorted set)        `queue`           userId → place score
-- KEYS[3]  admission times (hash)       `queue:admitted`  userId → when the buyer first saw their admission
-- KEYS[4]  the line's state (hash)      `queue:state`     admitted, accruedAt, credit, arrivals
--
-- ARGV[1]  places admitted from the front
-- ARGV[2]  arrivals after the start
-- ARGV[3]  now, epoch ms
-- ARGV[4…] userId, place, admittedAt ('' while waiting), userId, place, admittedAt, …
--
-- Returns the number of buyers added, or -1 when the sale hash exists (nothing written).

if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local added = 0
for index = 4, #ARGV, 3 do
  added = added + redis.call('ZADD', KEYS[2], 'NX', ARGV[index + 1], ARGV[index])
  if ARGV[index + 2] ~= '' then redis.call('HSETNX', KEYS[3], ARGV[index], ARGV[index + 2]) end
end
redis.call('HSET', KEYS[4], 'admitted', ARGV[1], 'arrivals', ARGV[2], 'accruedAt', ARGV[3], 'credit', 0)
return added
