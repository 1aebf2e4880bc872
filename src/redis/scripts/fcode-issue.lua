-- fcode-issue.lua: writes the hot-path state of newly issued F-codes, many per call (a batch of 100,000
-- codes is issued in one request, and one script call per thousand codes costs far less than one
-- command per code). The codes are new: the database insert of the same transaction has already
-- refused any hash that exists, so there is nothing to check.
--
-- KEYS[i]        `fcode:<codeHash>` of the i-th code (all under one sale's hash tag)
--
-- ARGV[2i - 1]   userId the i-th code is bound to, '' if unbound
-- ARGV[2i]       expiresAt of the i-th code, epoch ms, 0 if it never expires
--
-- Returns the number of codes written.

for index, key in ipairs(KEYS) do
  redis.call('HSET', key, 'userId', ARGV[2 * index - 1], 'expiresAt', ARGV[2 * index], 'status', 'issued', 'orderId', '')
end
return #KEYS
