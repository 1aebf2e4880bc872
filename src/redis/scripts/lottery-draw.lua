-- lottery-draw.lua: records a drawn lottery's rounds in Redis, once. The draw itself (the ranking, how many
-- win) is decided in the database first; this copies it here, and the rebuild uses it to put a drawn
-- lottery back after Redis lost it. Once the state holds rounds, a repeat changes nothing: a round opened
-- since (lottery-rounds.lua) is never overwritten by an older list.
--
-- KEYS[1]  lottery state hash           `lottery:state`     admitted, entries, rounds, round:<n> = '<admitted>:<buyBy>'
--
-- ARGV[1]  number of entries ranked
-- ARGV[2…] the rounds so far, round 1 first, each '<admitted up to this rank>:<buyBy ms>'
--
-- Returns 'DRAWN' (written now) or 'KEPT' (the state was there).

local stateKey = KEYS[1]
if tonumber(redis.call('HGET', stateKey, 'rounds') or '0') > 0 then return 'KEPT' end

local fields = {'entries', ARGV[1], 'rounds', #ARGV - 1}
local admitted = 0
for round = 1, #ARGV - 1 do
  local value = ARGV[round + 1]
  admitted = tonumber(string.match(value, '^(%d+):'))
  fields[#fields + 1] = 'round:' .. round
  fields[#fields + 1] = value
end
fields[#fields + 1] = 'admitted'
fields[#fields + 1] = admitted
redis.call('HSET', stateKey, unpack(fields))
return 'DRAWN'
