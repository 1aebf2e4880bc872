-- mirror-reservations.lua: copies reservations from the database into a sale's `reservations` hash with
-- HSETNX, so an entry already there keeps its (first) reservedAt and writing a chunk twice changes
-- nothing. One call per chunk of a few thousand pairs: far fewer round trips and client-side commands
-- than one pipelined HSETNX per id, and short enough not to stall purchases.
--
-- KEYS[1]  reservations hash            `reservations`
--
-- ARGV     userId, reservedAt, userId, reservedAt, …
--
-- Returns the number of entries added.

local added = 0
for index = 1, #ARGV, 2 do
  added = added + redis.call('HSETNX', KEYS[1], ARGV[index], ARGV[index + 1])
end
return added
