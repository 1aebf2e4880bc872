-- lottery-entry.lua: enters a buyer in a sale's lottery, once. Every check comes before the write.
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  entries hash                 `lottery:entries`   userId → enteredAt (epoch ms)
-- KEYS[3]  reservations hash            `reservations`
-- KEYS[4]  F-code hash                  `fcode:<codeHash>` (any unused key when ARGV[3] is '')
--
-- ARGV[1]  userId
-- ARGV[2]  now, epoch ms
-- ARGV[3]  F-code hash the buyer enters with, or ''
--
-- Returns an array whose first element is the outcome:
--   {'SALE_NOT_FOUND'}
--   {'NO_LOTTERY'}                  the sale's admission is not `lottery`
--   {'ENTERED', enteredAt}          entered now
--   {'IN', enteredAt}               entered before: the first entry, unchanged
--   {'NOT_ELIGIBLE'}                reservation required and none, and no F-code
--   {'FCODE_INVALID'}               the F-code is unknown, void, expired or another buyer's

--#include "lib/admission-eligibility.lua"

local saleKey, entriesKey, reservationsKey, fcodeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local userId, now, fcodeHash = ARGV[1], tonumber(ARGV[2]), ARGV[3]

local sale = redis.call('HMGET', saleKey, 'admission', 'reservationRequired')
if not sale[1] and redis.call('EXISTS', saleKey) == 0 then return {'SALE_NOT_FOUND'} end
if sale[1] ~= 'lottery' then return {'NO_LOTTERY'} end

local enteredAt = redis.call('HGET', entriesKey, userId)
if enteredAt then return {'IN', tonumber(enteredAt)} end

local refusal = admissionRefusal(fcodeKey, fcodeHash, reservationsKey, userId, now, sale[2] == '1')
if refusal then return {refusal} end

redis.call('HSET', entriesKey, userId, now)
return {'ENTERED', now}
