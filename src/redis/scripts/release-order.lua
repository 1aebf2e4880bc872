-- release-order.lua: ends a pending order without payment (the buyer cancels, or its payBy has passed) and
-- gives back everything it held: its units to the pool they came from, the buyer's allowance, and its
-- F-code. A compare-and-set on the order's status makes it safe against payment and against other
-- sweepers: an order is released at most once, and never once paid. Every check runs before the first
-- write, except that in 'expire' mode a refusal tidies the `deadlines` entry (removes it for an order that
-- is gone or final, re-scores it for one not due yet), so that sweepers never pick the same entry again.
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  buyers hash                  `buyers`
-- KEYS[3]  the order's hash             `order:<orderId>`
-- KEYS[4]  payment deadlines zset       `deadlines`
-- KEYS[5]  order outbox stream          `events`
-- KEYS[6]  the order's F-code hash      `fcode:<ARGV[5]>` (any unused key when ARGV[5] is '')
--
-- ARGV[1]  orderId
-- ARGV[2]  mode: 'cancel' (the owner asks) | 'expire' (the sweeper asks)
-- ARGV[3]  now, epoch ms
-- ARGV[4]  userId of the caller in 'cancel' mode (only the owner may cancel); '' in 'expire' mode
-- ARGV[5]  the order's fcodeHash as the caller read it ('' for none); it never changes once written
-- ARGV[6]  saleId
-- ARGV[7]  the sold-out channel, where `<saleId>:<stockVersion>` is published when units come back
-- ARGV[8]  releaseId: a fresh id naming this cancel request ('' in 'expire' mode). A second run with the
--          same id (a resend after a lost reply) finds its own release and answers RELEASED again.
--
-- Returns an array whose first element is the outcome:
--   {'RELEASED', status, orderJson, stockVersion}  status is 'cancelled', or 'expired' when payBy has
--                                     passed (a cancel after payBy expires the order, as the sweeper would)
--   {'SALE_NOT_READY'}                the sale's `sale` hash is missing (being rebuilt): nothing changed
--   {'ORDER_NOT_FOUND'}
--   {'FORBIDDEN'}                     'cancel' by someone other than the owner
--   {'FCODE_MISMATCH', fcodeHash}     ARGV[5] is not the order's fcodeHash: call again with this one
--   {'ORDER_EXPIRED', payBy}          already expired
--   {'ORDER_NOT_PENDING', status}     paid or cancelled
--   {'PAYMENT_IN_PROGRESS', payingUntil}  a payment attempt holds a live lease
--   {'NOT_DUE', payBy}                'expire' before payBy

local saleKey, buyersKey, orderKey, deadlinesKey, eventsKey, fcodeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local orderId, mode, now, callerId, callerFcodeHash, saleId, channel, releaseId =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] or ''
local expiring = mode == 'expire'

--#include "lib/hash-to-json.lua"

-- A sale whose state is being rebuilt has its orders back before its `sale` hash (written last): a release
-- now would create that hash half-filled, and the rebuild would then take it for a sale already there.
if redis.call('EXISTS', saleKey) == 0 then return {'SALE_NOT_READY'} end

local order = redis.call('HMGET', orderKey, 'userId', 'status', 'payBy', 'payingUntil', 'quantity', 'pool', 'fcodeHash', 'releasedBy')
if not order[1] then
  if expiring then redis.call('ZREM', deadlinesKey, orderId) end
  return {'ORDER_NOT_FOUND'}
end
local ownerId, status, payBy, payingUntil = order[1], order[2], tonumber(order[3]), tonumber(order[4] or '0') or 0
local quantity, pool, fcodeHash = tonumber(order[5]), order[6], order[7] or ''
if not expiring and ownerId ~= callerId then return {'FORBIDDEN'} end
if releaseId ~= '' and order[8] == releaseId then
  return {'RELEASED', status, hashToJson(orderKey), tonumber(redis.call('HGET', saleKey, 'stockVersion') or '0')}
end

if status ~= 'pending_payment' and status ~= 'paying' then
  if expiring then redis.call('ZREM', deadlinesKey, orderId) end
  if status == 'expired' then return {'ORDER_EXPIRED', payBy} end
  return {'ORDER_NOT_PENDING', status}
end
if status == 'paying' and payingUntil > now then
  if expiring then redis.call('ZADD', deadlinesKey, math.max(payBy, payingUntil), orderId) end
  return {'PAYMENT_IN_PROGRESS', payingUntil}
end
local overdue = now >= payBy
if expiring and not overdue then
  redis.call('ZADD', deadlinesKey, payBy, orderId)
  return {'NOT_DUE', payBy}
end
if fcodeHash ~= callerFcodeHash then return {'FCODE_MISMATCH', fcodeHash} end

-- Writes from here on; nothing below can refuse.
local finalStatus = overdue and 'expired' or 'cancelled'
redis.call('HSET', orderKey, 'status', finalStatus)
if releaseId ~= '' then redis.call('HSET', orderKey, 'releasedBy', releaseId) end
redis.call('HDEL', orderKey, 'payingUntil', 'payingAttempt')
redis.call('HINCRBY', saleKey, pool .. 'Remaining', quantity)
redis.call('HINCRBY', saleKey, 'unitsSold', -quantity)
redis.call('HINCRBY', saleKey, 'pending_payment', -1)
redis.call('HINCRBY', saleKey, finalStatus, 1)
if redis.call('HINCRBY', buyersKey, ownerId, -quantity) <= 0 then redis.call('HDEL', buyersKey, ownerId) end
redis.call('ZREM', deadlinesKey, orderId)
-- The code is free again only if it still backs this order; whether it is still usable (expired, void)
-- is purchase.lua's decision.
if fcodeHash ~= '' and redis.call('HGET', fcodeKey, 'orderId') == orderId then
  redis.call('HSET', fcodeKey, 'orderId', '')
  redis.call('HINCRBY', saleKey, 'fcodesRedeemed', -1)
end
local stockVersion = redis.call('HINCRBY', saleKey, 'stockVersion', 1)
redis.call('PUBLISH', channel, saleId .. ':' .. stockVersion)
redis.call('XADD', eventsKey, '*', 'type', 'status', 'orderId', orderId, 'status', finalStatus, 'at', now)
return {'RELEASED', finalStatus, hashToJson(orderKey), stockVersion}
