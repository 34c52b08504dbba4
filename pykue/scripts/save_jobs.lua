--[[ Create one or more jobs atomically: ids, hashes, indexes, tokens, events.
  KEYS[1] key prefix ("q:"), KEYS[2] the id counter, KEYS[3] the job types set, KEYS[4] all
  jobs set, KEYS[5] inactive set, KEYS[6] delayed set, KEYS[7] events channel
  Derived from the prefix: the new jobs' hashes and search entries (their ids are only known
  here), their types' sets and token lists, the search words' sets, unique jobs' keys.
  ARGV[1] now (ms), then for each job, 13 values and its words:
    type, data JSON, priority, max attempts, delay ms ("0": none), ttl ms ("0": none),
    backoff ("" or true/JSON), removeOnComplete ("" or "true"), unique key ("": none),
    unique for ms after the job ends, retention when complete and when failed ("" or
    "<count>:<age ms>"), n_words, word, ...
  Kue's hash: created_at = updated_at = now, promote_at = now + delay; a job with a delay
  is saved delayed, any other inactive with a wake-up token and an `enqueue` event.
  A unique job whose key is held by a job that still exists is not created: its place in
  the reply holds minus that job's id (the key is set here, atomically: of two producers
  racing, one creates the job and the other gets it back).
  The index writes of a batch are grouped (one ZADD per sorted set, one LPUSH per token
  list), which is what makes bulk saves cheap for Redis; a single job (task.delay) writes
  them straight, which saves it the grouping tables (about 15% of the script's time).
  Returns the new ids (or minus the ids of the jobs that unique ones duplicate), in order.
]]
--- @include "write_job"
--- @include "number_arg"
local base, now_text = KEYS[1], ARGV[1]
local now = tonumber(now_text)
local count, i = 0, 2
while i <= #ARGV do
  count = count + 1
  i = i + 13 + tonumber(ARGV[i + 12])
end
local next_id = redis.call("INCRBY", KEYS[2], number_arg(count)) - count

-- The id of the job that holds job i's unique key (includes/write_job.lua), or nil: then
-- job i takes the key, for the id it is about to get.
local function duplicated(i)
  return unique_holder(base, ARGV[i + 8], string.format("%d", next_id + 1))
end

if count == 1 then  -- one job (task.delay): its index writes straight, no grouping
  local holder = duplicated(2)
  if holder then return {-tonumber(holder)} end
  local k = {jobs = KEYS[4], types = KEYS[3], inactive = KEYS[5], delayed = KEYS[6], events = KEYS[7]}
  save_one(base, k, ARGV, 2, next_id + 1, now_text)
  return {next_id + 1}
end

local state_sets = {inactive = KEYS[5], delayed = KEYS[6]}
local enqueue_tails = {}  -- the JSON of each type in the `enqueue` event, made once per call

local ids, adds, tokens, types = {}, {}, {}, {}
local function add(key, score, member)
  local list = adds[key]
  if not list then list = {}; adds[key] = list end
  list[#list + 1] = score
  list[#list + 1] = member
end
i = 2
while i <= #ARGV do
  local holder = duplicated(i)
  if holder then
    ids[#ids + 1] = -tonumber(holder)
    i = i + 13 + tonumber(ARGV[i + 12])
  else
    local jtype = ARGV[i]
    next_id = next_id + 1
    local id = next_id
    local member, state, priority, delay, after = write_job(base, KEYS[7], ARGV, i, id, now_text, enqueue_tails)
    types[jtype] = true
    add(KEYS[4], priority, member)
    add(state_sets[state], (delay > 0) and (now + delay) or priority, member)
    add(type_state_key(base, jtype, state), priority, member)
    if state == "inactive" then tokens[jtype] = (tokens[jtype] or 0) + 1 end
    ids[#ids + 1] = id
    i = after
  end
end
for key, list in pairs(adds) do redis.call("ZADD", key, unpack(list)) end
for jtype in pairs(types) do redis.call("SADD", KEYS[3], jtype) end
for jtype, n in pairs(tokens) do
  local ones = {}
  for k = 1, n do ones[k] = "1" end
  redis.call("LPUSH", tokens_key(base, jtype), unpack(ones))
end
return ids
