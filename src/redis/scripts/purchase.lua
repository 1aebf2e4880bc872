-- purchase.lua: admits one purchase atomically (the hot path). Every check runs before the first write,
-- because Lua does not roll back: a refused purchase changes nothing.
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  reservations hash            `reservations`
-- KEYS[3]  buyers hash                  `buyers`
-- KEYS[4]  the new order's hash         `order:<orderId>`
-- KEYS[5]  the buyer's order-id set     `user-orders:<userId>`
-- KEYS[6]  payment deadlines zset       `deadlines`
-- KEYS[7]  idempotency key              `idem:purchase:<len>:<userId>:<key>` (any unused key when ARGV[6] is '')
-- KEYS[8]  order outbox stream          `events`
-- KEYS[9]  F-code hash                  `fcode:<codeHash>` (any unused key when ARGV[5] is '')
--
-- ARGV[1]  userId
-- ARGV[2]  orderId (minted by the caller, `o_<ulid>.<saleId>`)
-- ARGV[3]  now, epoch ms
-- ARGV[4]  quantity (integer >= 1)
-- ARGV[5]  F-code hash, or '' for a purchase without a code
-- ARGV[6]  request fingerprint, or '' when the request has no Idempotency-Key (must not contain '\n')
-- ARGV[7]  idempotency TTL in ms
-- ARGV[8]  saleId
-- ARGV[9]  '1' when the caller carries a valid admission token for this buyer and sale (checked in Node),
--          '0' otherwise; a sale whose `admission` is queue or lottery refuses '0' (F-codes before startsAt
--          excepted)
--
-- A second run with the same orderId (a resend after a lost reply) replays the first: it answers CREATED
-- with the order that run created and changes nothing, so one request never makes two orders.
--
-- Returns an array whose first element is the outcome:
--   {'CREATED', orderJson}          accepted (now, or by the first run of this orderId); orderJson holds
--                                   every field of the order
--   {'REPLAYED', orderJson}         same Idempotency-Key and fingerprint: the first order, unchanged
--   {'SALE_NOT_FOUND'}
--   {'IDEMPOTENCY_KEY_REUSED'}      same Idempotency-Key with a different fingerprint
--   {'SALE_ENDED', endsAt}
--   {'SALE_PAUSED'}
--   {'FCODE_INVALID'}               unknown, void, or bound to another user
--   {'FCODE_EXPIRED', expiresAt}
--   {'FCODE_USED'}                  already backs a live order
--   {'SALE_NOT_STARTED', opensAt}   fcodeOpensAt with a code, startsAt without
--   {'NOT_ELIGIBLE'}                reservation required and none, without a code
--   {'NOT_ADMITTED'}                a waiting room or lottery sale, and no admission
--   {'LIMIT_REACHED', held, perUserLimit}
--   {'SOLD_OUT', generalRemaining, fcodeRemaining, stockVersion}

--#include "lib/hash-to-json.lua"
--#include "lib/idempotent-replay.lua"

local saleKey, reservationsKey, buyersKey, orderKey, userOrdersKey, deadlinesKey, idempotencyKey, eventsKey, fcodeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local userId, orderId, now, quantity = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local fcodeHash, fingerprint, idempotencyTtlMs, saleId, admitted = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9] == '1'

local sale = redis.call('HMGET', saleKey,
  'startsAt', 'endsAt', 'fcodeOpensAt', 'paused', 'reservationRequired', 'perUserLimit',
  'priceCents', 'currency', 'paymentWindowMs', 'generalRemaining', 'fcodeRemaining', 'stockVersion', 'admission')
if not sale[1] then return {'SALE_NOT_FOUND'} end

if redis.call('EXISTS', orderKey) == 1 then return {'CREATED', hashToJson(orderKey)} end

-- A retry of an accepted purchase is answered before any window check: the buyer already has the order.
local replay = idempotentReplay(idempotencyKey, fingerprint)
if replay then return replay end

local startsAt, endsAt, fcodeOpensAt = tonumber(sale[1]), tonumber(sale[2]), tonumber(sale[3])
if now >= endsAt then return {'SALE_ENDED', endsAt} end
if sale[4] == '1' then return {'SALE_PAUSED'} end

local withCode = fcodeHash ~= ''
if withCode then
  local code = redis.call('HMGET', fcodeKey, 'userId', 'expiresAt', 'status', 'orderId')
  local boundTo, expiresAt, status, backsOrder = code[1] or '', tonumber(code[2] or '0') or 0, code[3], code[4] or ''
  if not status or status == 'void' or (boundTo ~= '' and boundTo ~= userId) then return {'FCODE_INVALID'} end
  if expiresAt > 0 and now >= expiresAt then return {'FCODE_EXPIRED', expiresAt} end
  if backsOrder ~= '' then return {'FCODE_USED'} end
  if now < fcodeOpensAt then return {'SALE_NOT_STARTED', fcodeOpensAt} end
else
  if now < startsAt then return {'SALE_NOT_STARTED', startsAt} end
  if sale[5] == '1' and redis.call('HEXISTS', reservationsKey, userId) == 0 then return {'NOT_ELIGIBLE'} end
end

-- A missing field is a sale from before admission modes: open. F-code holders buy in their priority
-- window without an admission; from startsAt on they pass the waiting room or the draw like everyone.
local admission = sale[13]
if admission and admission ~= 'open' and not admitted and not (withCode and now < startsAt) then return {'NOT_ADMITTED'} end

local perUserLimit = tonumber(sale[6])
local held = tonumber(redis.call('HGET', buyersKey, userId) or '0')
if held + quantity > perUserLimit then return {'LIMIT_REACHED', held, perUserLimit} end

local generalRemaining, fcodeRemaining = tonumber(sale[10]) or 0, tonumber(sale[11]) or 0
-- An F-code holder draws from the F-code pool first and falls back to the general pool.
local pool
if withCode and fcodeRemaining >= quantity then
  pool = 'fcode'
elseif generalRemaining >= quantity then
  pool = 'general'
else
  return {'SOLD_OUT', generalRemaining, fcodeRemaining, tonumber(sale[12]) or 0}
end

-- Writes from here on; nothing below can refuse.
local unitPriceCents = tonumber(sale[7])
local payBy = now + tonumber(sale[9])
local order = {
  id = orderId, saleId = saleId, userId = userId, quantity = quantity, unitPriceCents = unitPriceCents,
  amountCents = unitPriceCents * quantity, currency = sale[8], status = 'pending_payment', pool = pool,
  fcodeHash = fcodeHash, createdAt = now, payBy = payBy, paidAt = '',
}

redis.call('HINCRBY', saleKey, pool .. 'Remaining', -quantity)
redis.call('HINCRBY', saleKey, 'unitsSold', quantity)
redis.call('HINCRBY', saleKey, 'accepted', 1)
redis.call('HINCRBY', saleKey, 'pending_payment', 1)
redis.call('HINCRBY', buyersKey, userId, quantity)
redis.call('HSET', orderKey,
  'id', orderId, 'saleId', saleId, 'userId', userId, 'quantity', quantity, 'unitPriceCents', unitPriceCents,
  'amountCents', order.amountCents, 'currency', order.currency, 'status', 'pending_payment', 'pool', pool,
  'fcodeHash', fcodeHash, 'createdAt', now, 'payBy', payBy, 'paidAt', '')
redis.call('SADD', userOrdersKey, orderId)
redis.call('ZADD', deadlinesKey, payBy, orderId)
if withCode then
  redis.call('HSET', fcodeKey, 'orderId', orderId)
  redis.call('HINCRBY', saleKey, 'fcodesRedeemed', 1)
end

local orderJson = cjson.encode(order)
if fingerprint ~= '' then
  redis.call('SET', idempotencyKey, fingerprint .. '\n' .. orderJson, 'PX', idempotencyTtlMs)
end
redis.call('XADD', eventsKey, '*', 'type', 'created', 'order', orderJson)
return {'CREATED', orderJson}
