-- pay-order.lua: the first half of a payment. Checks that the order may be paid now and, if so, moves it
-- from `pending_payment` to `paying` under a lease held by one payment attempt, so that neither the expiry
-- sweeper nor a second payment touches it while the provider charges. `settle-payment.lua` ends the lease.
-- Every check runs before the first write: a refused payment changes nothing and charges nothing.
--
-- While `paying`, the order still counts as pending_payment in the sale's counters, and its `deadlines`
-- score is max(payBy, payingUntil), so that a sweeper only looks at it again once the lease has run out.
--
-- KEYS[1]  the order's hash             `order:<orderId>`
-- KEYS[2]  payment deadlines zset       `deadlines`
-- KEYS[3]  idempotency key              `idem:pay:<len>:<userId>:<key>` (any unused key when ARGV[6] is '')
--
-- ARGV[1]  orderId
-- ARGV[2]  userId of the caller (only the owner may pay)
-- ARGV[3]  now, epoch ms
-- ARGV[4]  attemptId: a fresh random id naming this payment attempt (the lease holder)
-- ARGV[5]  lease length in ms
-- ARGV[6]  request fingerprint, or '' when the request has no Idempotency-Key (must not contain '\n')
--
-- A second run of the same attempt (a resend after a lost reply) finds its own lease and answers BEGUN again.
--
-- Returns an array whose first element is the outcome:
--   {'BEGUN', orderJson}               the lease is ours: charge orderJson.amountCents, then settle
--   {'REPLAYED', orderJson}            this Idempotency-Key already paid this order: the paid order, unchanged
--   {'ORDER_NOT_FOUND'}
--   {'FORBIDDEN'}                      the order belongs to another user
--   {'IDEMPOTENCY_KEY_REUSED'}         same Idempotency-Key with a different fingerprint
--   {'ORDER_EXPIRED', payBy}           expired, or its payBy has passed (the sweeper will expire it)
--   {'PAYMENT_IN_PROGRESS', payingUntil}  another attempt holds a live lease
--   {'ORDER_NOT_PENDING', status}      paid or cancelled

local orderKey, deadlinesKey, idempotencyKey = KEYS[1], KEYS[2], KEYS[3]
local orderId, userId, now, attemptId, leaseMs, fingerprint =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6]

--#include "lib/hash-to-json.lua"
--#include "lib/idempotent-replay.lua"

local order = redis.call('HMGET', orderKey, 'userId', 'status', 'payBy', 'payingUntil', 'payingAttempt')
if not order[1] then return {'ORDER_NOT_FOUND'} end
if order[1] ~= userId then return {'FORBIDDEN'} end

-- A retry of a payment that went through is answered before the status check, which it would now fail.
local replay = idempotentReplay(idempotencyKey, fingerprint)
if replay then return replay end

local status, payBy, payingUntil = order[2], tonumber(order[3]), tonumber(order[4] or '0') or 0
if status == 'paying' and order[5] == attemptId then return {'BEGUN', hashToJson(orderKey)} end
if status == 'expired' then return {'ORDER_EXPIRED', payBy} end
if status == 'paying' then
  -- A lease that has run out belongs to an attempt that died (or hangs): a new attempt may take over.
  if payingUntil > now then return {'PAYMENT_IN_PROGRESS', payingUntil} end
elseif status ~= 'pending_payment' then
  return {'ORDER_NOT_PENDING', status}
end
if now >= payBy then return {'ORDER_EXPIRED', payBy} end

-- Writes from here on; nothing below can refuse.
local leaseEnd = now + leaseMs
redis.call('HSET', orderKey, 'status', 'paying', 'payingUntil', leaseEnd, 'payingAttempt', attemptId)
redis.call('ZADD', deadlinesKey, math.max(payBy, leaseEnd), orderId)
return {'BEGUN', hashToJson(orderKey)}
