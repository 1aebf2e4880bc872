-- idempotentReplay(idempotencyKey, fingerprint): the answer to a request whose Idempotency-Key was seen
-- before, or nil when there is none (no key given: fingerprint ''; or the key is new). The stored value is
-- `<fingerprint>\n<response>`: the same fingerprint replays the response, another one is a reused key.
local function idempotentReplay(idempotencyKey, fingerprint)
  if fingerprint == '' then return nil end
  local stored = redis.call('GET', idempotencyKey)
  if not stored then return nil end
  local separator = string.find(stored, '\n', 1, true)
  if string.sub(stored, 1, separator - 1) == fingerprint then
    return {'REPLAYED', string.sub(stored, separator + 1)}
  end
  return {'IDEMPOTENCY_KEY_REUSED'}
end
