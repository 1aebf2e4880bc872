-- lottery-rounds.lua: the admission rounds of a drawn lottery. The draw ranks every entry; round 1 admits
-- the first `winners` of that ranking until startsAt + purchase window (lottery-draw.lua records it). When
-- a round's window is over and units are left in the general pool, the next round admits the next ranked
-- entries, as many as those units cover at perUserLimit each (at least one), for another window: units
-- nobody bought pass down the ranking by themselves. Every check comes before the first write.
--
-- KEYS[1]  sale hash                    `sale`
-- KEYS[2]  lottery state hash           `lottery:state`     admitted, entries, rounds, round:<n> = '<admitted>:<buyBy>'
--
-- ARGV[1]  now, epoch ms
-- ARGV[2]  purchase window, ms
--
-- Returns {'SALE_NOT_FOUND'}, {'NOT_DRAWN'} (no rounds recorded yet), or
--   {'ROUNDS', admitted, entries, round1, round2, …}   each round as '<admitted up to this rank>:<buyBy ms>'

local saleKey, stateKey = KEYS[1], KEYS[2]
local now, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2])

local sale = redis.call('HMGET', saleKey, 'endsAt', 'generalRemaining', 'perUserLimit', 'paused')
if not sale[1] then return {'SALE_NOT_FOUND'} end
local endsAt, remaining, perUserLimit = tonumber(sale[1]), tonumber(sale[2]) or 0, tonumber(sale[3])

local rounds = tonumber(redis.call('HGET', stateKey, 'rounds') or '0')
if rounds == 0 then return {'NOT_DRAWN'} end

local state = redis.call('HMGET', stateKey, 'admitted', 'entries', 'round:' .. rounds)
local admitted, entries = tonumber(state[1]), tonumber(state[2])
local buyBy = tonumber(string.match(state[3], ':(%d+)$'))
-- The next round opens once the last one is over, while the sale runs (not paused) with units left
-- and entries not yet admitted. Its window runs from now, so a round noticed late still gets a full one.
if now >= buyBy and now < endsAt and sale[4] ~= '1' and remaining > 0 and admitted < entries then
  admitted = math.min(entries, admitted + math.max(1, math.floor(remaining / perUserLimit)))
  rounds = rounds + 1
  redis.call('HSET', stateKey, 'admitted', admitted, 'rounds', rounds, 'round:' .. rounds, admitted .. ':' .. math.min(now + windowMs, endsAt))
end

local reply = {'ROUNDS', admitted, entries}
for round = 1, rounds do reply[#reply + 1] = redis.call('HGET', stateKey, 'round:' .. round) end
return reply
