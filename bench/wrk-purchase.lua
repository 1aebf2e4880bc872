-- The purchase load of `npm run bench` when wrk is installed (bench/wrk.ts starts it). wrk is a C load
-- generator: it takes a fraction of the CPU that a Node one does on the same cores, so the server under
-- test gets closer to the machine's whole speed. Each request comes from a random buyer of the token pool
-- (one Authorization header per line of the tokens file, minted ahead by the harness) with its own
-- Idempotency-Key; each thread counts its answers by outcome in time buckets and the 201s per buyer (read
-- from the order's userId), and `done` writes everything as JSON for the harness.
--
--   wrk -s bench/wrk-purchase.lua <url> -- <tokens file> <path> <idempotency 0|1> <key prefix> <result file> <bucket ms>
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *out);
]]
local CLOCK_REALTIME = 0
local clock = ffi.new("bench_timespec")

-- Epoch milliseconds, on the clock the harness and the server use (same machine).
local function now_ms()
  ffi.C.clock_gettime(CLOCK_REALTIME, clock)
  return tonumber(clock.tv_sec) * 1000 + math.floor(tonumber(clock.tv_nsec) / 1000000)
end

-- Main state: the threads, to collect their counts in `done`.
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

-- Thread state.
local tokens = {}
local path, idempotency, key_prefix
-- Globals, so that `done` (in the main state) can read them from a thread.
result_file, bucket_ms = nil, nil
local sequence = 0
-- buckets["<bucket> <outcome>"] = count, bucket = floor(epoch ms / bucket_ms): flat, because wrk copies a
-- thread's tables to the main state for `done` one level deep.
buckets = {}
-- created_by_buyer[userId] = 201s
created_by_buyer = {}
created = 0
last_created_ms = 0

function init(args)
  local tokens_file = args[1]
  path = args[2]
  idempotency = args[3] == "1"
  key_prefix = args[4] .. (thread_id or 0) .. "-"
  result_file = args[5]
  bucket_ms = tonumber(args[6])
  for line in io.lines(tokens_file) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

local body = '{"quantity":1}'

function request()
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = tokens[math.random(#tokens)] }
  if idempotency then
    sequence = sequence + 1
    headers["Idempotency-Key"] = key_prefix .. sequence
  end
  return wrk.format("POST", path, headers, body)
end

local function count(outcome, at)
  local key = math.floor(at / bucket_ms) .. " " .. outcome
  buckets[key] = (buckets[key] or 0) + 1
end

function response(status, headers, response_body)
  local at = now_ms()
  if status == 201 then
    count("CREATED", at)
    created = created + 1
    last_created_ms = at
    local buyer = string.match(response_body or "", '"userId"%s*:%s*"([^"]*)"') or "?"
    created_by_buyer[buyer] = (created_by_buyer[buyer] or 0) + 1
  else
    count(string.match(response_body or "", '"code"%s*:%s*"([A-Z_]+)"') or ("HTTP_" .. status), at)
  end
end

function done(summary, latency, requests)
  local result_file, bucket_ms = threads[1]:get("result_file"), threads[1]:get("bucket_ms")
  local merged_buckets = {}
  local merged_buyers = {}
  local total_created, last_ms = 0, 0
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("buckets")) do merged_buckets[key] = (merged_buckets[key] or 0) + n end
    for buyer, n in pairs(thread:get("created_by_buyer")) do merged_buyers[buyer] = (merged_buyers[buyer] or 0) + n end
    total_created = total_created + thread:get("created")
    last_ms = math.max(last_ms, thread:get("last_created_ms"))
  end
  -- Buyers with more than one 201, as [count, how many buyers]; the harness holds them against the limit.
  local per_buyer = {}
  for _, n in pairs(merged_buyers) do
    if n > 1 then per_buyer[n] = (per_buyer[n] or 0) + 1 end
  end

  local out = {}
  local function add(text) out[#out + 1] = text end
  add('{"buckets":[')
  local first = true
  for key, n in pairs(merged_buckets) do
    local bucket, outcome = string.match(key, "^(%d+) (.+)$")
    add((first and "" or ",") .. string.format('[%d,"%s",%d]', tonumber(bucket) * bucket_ms, outcome, n))
    first = false
  end
  add('],"createdPerBuyer":[')
  first = true
  for n, buyers in pairs(per_buyer) do
    add((first and "" or ",") .. string.format("[%d,%d]", n, buyers))
    first = false
  end
  local errors = summary.errors
  add(string.format('],"created":%d,"lastCreatedMs":%d,"requests":%d,"durationUs":%d', total_created, last_ms, summary.requests, summary.duration))
  add(string.format(',"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}', errors.connect, errors.read, errors.write, errors.timeout))
  add(string.format(',"latencyUs":{"count":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}}', summary.requests, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  local file = assert(io.open(result_file, "w"))
  file:write(table.concat(out))
  file:close()
end
