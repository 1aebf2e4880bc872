-- settle-payment.lua: the second half of a payment, run once the provider has answered. Only the attempt
-- that holds the lease taken by `pay-order.lua` may settle: if the lease ran out and the sweeper expired the
-- order, or another attempt took the lease over, nothing changes and the caller must refund the charge.
-- Every check runs before the first write.
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  the order's hash             `order:<orderId>`
-- KEYS[3]  payment deadlines zset       `deadlines`
-- KEYS[4]  order outbox stream          `events`
-- KEYS[5]  idempotency key              `idem:pay:<len>:<userId>:<key>` (any unused key when ARGV[5] is '')
--
-- ARGV[1]  orderId
-- ARGV[2]  attemptId that `pay-order.lua` was given
-- ARGV[3]  now, epoch ms
-- ARGV[4]  what the provider said: 'paid' | 'declined'
-- ARGV[5]  request fingerprint, or '' without an Idempotency-Key (must not contain '\n')
-- ARGV[6]  idempotency TTL in ms
-- ARGV[7]  the provider's payment reference ('' when declined)
--
-- Returns an array whose first element is the outcome:
--   {'PAID', orderJson}         status paid, paidAt now; counters pending_payment -1, paid +1; deadline
--                               removed; `status` event appended; the response remembered under the key
--   {'DECLINED', orderJson}     back to pending_payment with its payBy deadline: still payable
--   {'LEASE_LOST', status}      this attempt no longer holds the order (status is what it is now)
--
-- A second run of the same settle (a resend after a lost reply) recognises the first one's work: an order
-- paid with this charge's reference answers PAID, an order this attempt declined answers DECLINED; the
-- caller refunds only on LEASE_LOST, so a charge that paid the order is never refunded.

local saleKey, orderKey, deadlinesKey, eventsKey, idempotencyKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local orderId, attemptId, now, result, fingerprint, idempotencyTtlMs, reference =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7]

--#include "lib/hash-to-json.lua"

-- A sale being rebuilt (its `sale` hash is written last) takes no settle: it would create that hash
-- half-filled. The charge did not pay the order; the caller refunds it.
if redis.call('EXISTS', saleKey) == 0 then return {'LEASE_LOST', 'missing'} end

local order = redis.call('HMGET', orderKey, 'status', 'payingAttempt', 'payBy', 'paymentReference', 'declinedAttempt')
if not order[1] then return {'LEASE_LOST', 'missing'} end
if result == 'paid' and order[1] == 'paid' and reference ~= '' and order[4] == reference then return {'PAID', hashToJson(orderKey)} end
if result == 'declined' and order[1] ~= 'paying' and order[5] == attemptId then return {'DECLINED', hashToJson(orderKey)} end
if order[1] ~= 'paying' or order[2] ~= attemptId then return {'LEASE_LOST', order[1]} end

-- Writes from here on; nothing below can refuse.
if result == 'declined' then
  redis.call('HSET', orderKey, 'status', 'pending_payment', 'declinedAttempt', attemptId)
  redis.call('HDEL', orderKey, 'payingUntil', 'payingAttempt')
  redis.call('ZADD', deadlinesKey, tonumber(order[3]), orderId)
  return {'DECLINED', hashToJson(orderKey)}
end

redis.call('HSET', orderKey, 'status', 'paid', 'paidAt', now, 'paymentReference', reference)
redis.call('HDEL', orderKey, 'payingUntil', 'payingAttempt')
redis.call('HINCRBY', saleKey, 'pending_payment', -1)
redis.call('HINCRBY', saleKey, 'paid', 1)
redis.call('ZREM', deadlinesKey, orderId)
redis.call('XADD', eventsKey, '*', 'type', 'status', 'orderId', orderId, 'status', 'paid', 'at', now)
local orderJson = hashToJson(orderKey)
if fingerprint ~= '' then
  redis.call('SET', idempotencyKey, fingerprint .. '\n' .. orderJson, 'PX', idempotencyTtlMs)
end
return {'PAID', orderJson}
