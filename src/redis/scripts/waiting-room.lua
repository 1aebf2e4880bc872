-- waiting-room.lua: moves a sale's waiting room forward to `now`, then (per action) lets a buyer join and
-- tells them where they stand. Every check comes before the first write.
--
-- The line is a sorted set of buyers by place. Whoever joins before startsAt gets the random score ARGV[4]
-- in [0, 1), drawn once by the caller: a uniformly random place among everyone who joined before the start,
-- whenever they came and however often they asked. Later joiners get 1 + their arrival number, behind all
-- of those, in order of arrival. Admission is arithmetic: from startsAt, `admitted` (a count of places from
-- the front) grows by admissionRatePerSecond for each second that passes while the sale runs, is not paused
-- and has units left, and never past the end of the line. Whoever calls this script moves it on by the
-- time since the last call, atomically, so any number of processes calling it admit at the one rate.
-- `credit` keeps the fraction of an admission earned between calls (thousandths).
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  the line (sorted set)        `queue`           userId → place score
-- KEYS[3]  the line's state (hash)      `queue:state`     admitted, accruedAt, credit, arrivals
-- KEYS[4]  admission times (hash)       `queue:admitted`  userId → when the buyer first saw their admission
-- KEYS[5]  reservations hash            `reservations`
-- KEYS[6]  F-code hash                  `fcode:<codeHash>` (any unused key when ARGV[5] is '')
--
-- ARGV[1]  action: 'join', 'status' (one buyer) or 'advance' (no buyer)
-- ARGV[2]  userId ('' for advance)
-- ARGV[3]  now, epoch ms
-- ARGV[4]  a random number in [0, 1), the buyer's place if they join before startsAt
-- ARGV[5]  F-code hash the buyer joins with, or ''
--
-- Returns an array whose first element is the outcome:
--   {'SALE_NOT_FOUND'}
--   {'NO_WAITING_ROOM'}                 the sale's admission is not `queue` (join only)
--   {'SALE_ENDED', endsAt}              (join only)
--   {'NOT_ELIGIBLE'}                    reservation required and none, and no F-code (join only)
--   {'FCODE_INVALID'}                   the F-code is unknown, void, expired or another buyer's (join only)
--   {'NOT_IN_QUEUE'}                    (status only)
--   {'ADVANCED', admitted, length, endsAt}   (advance)
--   {'JOINED' | 'IN', rank, admitted, credit, soldOut, admittedAt, paused, place, seenNow}
--                                       rank is 0-based; admittedAt is 0 while the buyer waits; place is
--                                       the buyer's score in the line; seenNow is 1 when this call is the
--                                       one that showed the buyer their admission (admittedAt = now)

--#include "lib/admission-eligibility.lua"

local saleKey, queueKey, stateKey, admittedAtKey, reservationsKey, fcodeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local action, userId, now, randomPlace, fcodeHash = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]

local sale = redis.call('HMGET', saleKey,
  'startsAt', 'endsAt', 'paused', 'admissionRatePerSecond', 'generalRemaining', 'fcodeRemaining', 'admission', 'reservationRequired')
if not sale[1] then return {'SALE_NOT_FOUND'} end
local startsAt, endsAt, paused, rate = tonumber(sale[1]), tonumber(sale[2]), sale[3] == '1', tonumber(sale[4] or '1000')
local soldOut = (tonumber(sale[5]) or 0) + (tonumber(sale[6]) or 0) <= 0
local isQueue = sale[7] == 'queue'

-- Checks of a join, before anything is written.
local joining = false
if action == 'join' then
  if not isQueue then return {'NO_WAITING_ROOM'} end
  if now >= endsAt then return {'SALE_ENDED', endsAt} end
  if not redis.call('ZSCORE', queueKey, userId) then
    local refusal = admissionRefusal(fcodeKey, fcodeHash, reservationsKey, userId, now, sale[8] == '1')
    if refusal then return {refusal} end
    joining = true
  end
end

-- Move admission on to `now`.
local state = redis.call('HMGET', stateKey, 'admitted', 'accruedAt', 'credit')
local admitted, accruedAt, credit = tonumber(state[1] or '0'), tonumber(state[2] or '0'), tonumber(state[3] or '0')
if isQueue and now > startsAt then
  local from = math.max(accruedAt, startsAt)
  if now > from then
    local waiting = redis.call('ZCARD', queueKey) - admitted
    if paused or soldOut or now >= endsAt or waiting <= 0 then
      -- Nothing is earned while nobody can be admitted: no burst when the sale resumes or units return.
      credit = 0
    else
      local total = credit + (now - from) * rate
      local delta = math.floor(total / 1000)
      if delta >= waiting then
        delta, credit = waiting, 0
      else
        credit = total - delta * 1000
      end
      admitted = admitted + delta
    end
    redis.call('HSET', stateKey, 'admitted', admitted, 'accruedAt', now, 'credit', credit)
  end
end

if action == 'advance' then return {'ADVANCED', admitted, redis.call('ZCARD', queueKey), endsAt} end

if joining then
  local place = randomPlace
  if now >= startsAt then place = 1 + redis.call('HINCRBY', stateKey, 'arrivals', 1) end
  redis.call('ZADD', queueKey, 'NX', place, userId)
end

local rank = redis.call('ZRANK', queueKey, userId)
if not rank then return {'NOT_IN_QUEUE'} end
local score = redis.call('ZSCORE', queueKey, userId)
local admittedAt, seenNow = 0, 0
if rank < admitted then
  admittedAt = tonumber(redis.call('HGET', admittedAtKey, userId) or '0')
  if admittedAt == 0 then
    admittedAt, seenNow = now, 1
    redis.call('HSET', admittedAtKey, userId, now)
  end
end
return {joining and 'JOINED' or 'IN', rank, admitted, credit, soldOut and 1 or 0, admittedAt, paused and 1 or 0, score, seenNow}
