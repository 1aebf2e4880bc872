-- hashToJson(key): the hash at `key` as one JSON object of its fields (every value a string).
local function hashToJson(key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for index = 1, #flat, 2 do fields[flat[index]] = flat[index + 1] end
  return cjson.encode(fields)
end
