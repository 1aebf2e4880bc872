-- adjust-stock.lua: adds units to one pool of a sale, or removes unsold ones, changing the pool's total and
-- its remaining units together so that the stock equation
--   general + fcode - generalRemaining - fcodeRemaining = unitsSold
-- holds before and after. A removal takes at most the unsold units (never a pool below 0): the caller is
-- told how many were actually removed. When units are added, stockVersion is bumped and
-- `<saleId>:<stockVersion>` is published on the sold-out channel, so that every process forgets its
-- in-memory "sold out" flag for the sale.
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  this change's record         `adjustment:<id>` (string, 24 h TTL)
--
-- The change is relative, so running it twice would apply it twice. Its record makes it idempotent: a
-- caller whose first send went unanswered sends the same call again and is told what the first one did.
--
-- ARGV[1]  pool: 'general' | 'fcode'
-- ARGV[2]  units to add (integer; negative to remove)
-- ARGV[3]  largest total a pool may reach (the database column's bound)
-- ARGV[4]  saleId
-- ARGV[5]  the sold-out channel
--
-- Returns an array whose first element is the outcome:
--   {'ADJUSTED', applied, total, remaining, stockVersion}  applied is the signed change actually made
--                                                          (a removal clamped to what was unsold)
--   {'SALE_NOT_FOUND'}
--   {'OVER_CAPACITY', total}         adding would take the pool's total past ARGV[3]; nothing changed

local saleKey, recordKey = KEYS[1], KEYS[2]
local done = redis.call('GET', recordKey)
if done then
  local a, t, r, v = string.match(done, '^(-?%d+):(%d+):(-?%d+):(%d+)$')
  return {'ADJUSTED', tonumber(a), tonumber(t), tonumber(r), tonumber(v)}
end

local pool, add, maxTotal, saleId, channel = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local remainingField = pool .. 'Remaining'

local state = redis.call('HMGET', saleKey, pool, remainingField, 'stockVersion')
if not state[1] then return {'SALE_NOT_FOUND'} end
local total, remaining, stockVersion = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0

local applied = add
if add > 0 then
  if total + add > maxTotal then return {'OVER_CAPACITY', total} end
elseif add < 0 then
  -- Only unsold units can be taken away; units held by live orders stay theirs.
  applied = -math.min(-add, math.max(remaining, 0))
end

-- Writes from here on; nothing below can refuse.
if applied ~= 0 then
  total = redis.call('HINCRBY', saleKey, pool, applied)
  remaining = redis.call('HINCRBY', saleKey, remainingField, applied)
end
if applied > 0 then
  stockVersion = redis.call('HINCRBY', saleKey, 'stockVersion', 1)
  redis.call('PUBLISH', channel, saleId .. ':' .. stockVersion)
end
redis.call('SET', recordKey, applied .. ':' .. total .. ':' .. remaining .. ':' .. stockVersion, 'EX', 86400)
return {'ADJUSTED', applied, total, remaining, stockVersion}
