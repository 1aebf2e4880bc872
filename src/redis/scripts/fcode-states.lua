-- fcode-states.lua: reads the hot-path state of many F-codes in one call (the CSV export and the
-- summary look at up to 100,000 codes; one script call per thousand costs far less than one command
-- per code). Read-only.
--
-- KEYS[i]   `fcode:<codeHash>` of the i-th code (all under one sale's hash tag)
--
-- Returns a flat array, two entries per code in KEYS order: status ('' when Redis holds no state for
-- the code), orderId ('' when it backs no live order).

local states = {}
for index, key in ipairs(KEYS) do
  local fields = redis.call('HMGET', key, 'status', 'orderId')
  states[2 * index - 1] = fields[1] or ''
  states[2 * index] = fields[2] or ''
end
return states
