-- restore-fcodes.lua: part of rebuilding a sale's lost Redis state from the database (boot restore). Writes
-- the `fcode:<codeHash>` hash of each F-code whose hash is missing, with the live order it backs, if any.
-- Only while the sale's `sale` hash is still absent (see restore-buyers.lua); a code hash that exists is
-- left as it is (it may carry a `void` written while the rest of the state was gone).
--
-- KEYS[1]        sale hash                  `sale`
-- KEYS[1 + i]    code i's hash              `fcode:<codeHash>`   (i = 1 … n)
--
-- ARGV           4 values per code: userId ('' if unbound), expiresAt (0 if never), status (issued|void),
--                orderId ('' or the live order it backs)
--
-- Returns the number of code hashes written, or -1 when the sale hash exists (nothing written).

if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local written = 0
for i = 1, #KEYS - 1 do
  local codeKey = KEYS[1 + i]
  local base = (i - 1) * 4
  if redis.call('EXISTS', codeKey) == 0 then
    redis.call('HSET', codeKey, 'userId', ARGV[base + 1], 'expiresAt', ARGV[base + 2], 'status', ARGV[base + 3], 'orderId', ARGV[base + 4])
    written = written + 1
  end
end
return written
