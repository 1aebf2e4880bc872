-- restore-orders.lua: part of rebuilding a sale's lost Redis state from the database (boot restore). For
-- each live order (pending_payment or paid): its `order:<id>` hash and its id in the buyer's
-- `user-orders:<userId>` set, as purchase.lua and the lifecycle scripts leave them; for a pending order
-- also its payBy in `deadlines` (the sweeper's work list). Only while the sale's `sale` hash is still
-- absent (see restore-buyers.lua), and an order hash that already exists is left as it is.
--
-- KEYS[1]          sale hash                `sale`
-- KEYS[2]          payment deadlines zset   `deadlines`
-- KEYS[1 + 2i]     order i's hash           `order:<orderId>`        (i = 1 … n)
-- KEYS[2 + 2i]     order i's buyer's set    `user-orders:<userId>`
--
-- ARGV             13 values per order, in this order: id, saleId, userId, quantity, unitPriceCents,
--                  amountCents, currency, status, pool, fcodeHash ('' if none), createdAt, payBy, paidAt ('')
--
-- Returns the number of order hashes written, or -1 when the sale hash exists (nothing written).

local FIELDS = {'id', 'saleId', 'userId', 'quantity', 'unitPriceCents', 'amountCents', 'currency', 'status', 'pool', 'fcodeHash', 'createdAt', 'payBy', 'paidAt'}
local WIDTH = #FIELDS

if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local written = 0
local count = (#KEYS - 2) / 2
for i = 1, count do
  local orderKey, userOrdersKey = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  local base = (i - 1) * WIDTH
  local orderId, status, payBy = ARGV[base + 1], ARGV[base + 8], ARGV[base + 12]
  if redis.call('EXISTS', orderKey) == 0 then
    local flat = {}
    for field = 1, WIDTH do
      flat[#flat + 1] = FIELDS[field]
      flat[#flat + 1] = ARGV[base + field]
    end
    redis.call('HSET', orderKey, unpack(flat))
    redis.call('SADD', userOrdersKey, orderId)
    if status == 'pending_payment' then redis.call('ZADD', KEYS[2], 'NX', payBy, orderId) end
    written = written + 1
  end
end
return written
