--[[ Fire a due schedule: create its job and move its due time on, both or neither, once per
  due time whichever workers try (a compare-and-set on the due time a worker read). Due is
  judged by Redis's clock, so a worker whose clock runs ahead cannot fire early.
  KEYS[1] key prefix ("q:"), KEYS[2] the id counter, KEYS[3] the job types set, KEYS[4] all
  jobs set, KEYS[5] inactive set, KEYS[6] delayed set, KEYS[7] events channel,
  KEYS[8] the schedules hash (name -> spec JSON), KEYS[9] their due times (sorted set, ms)
  Derived from the prefix: the new job's hash and search entries, its type's sets and token
  list, its unique key (a unique task's schedule makes no job while the last one it made
  still holds the key: that due time is skipped, as a duplicate delay() would be).
  ARGV[1] schedule name, ARGV[2] the due time the worker read (ms), ARGV[3] the next due
  time (ms), which the worker computed from Redis's clock: a schedule missed while no
  worker ran fires once, then moves to its next time after now.
  The spec's "job" holds the job's values as save_jobs.lua takes them (one job).
  Returns {1, the new job's id}, {2, the id of the job holding its unique key} (the due
  time moved on, no job made), or {0}: not due yet, already fired for that time (or
  changed), or removed.
]]
--- @include "write_job"
if redis.replicate_commands then redis.replicate_commands() end  -- TIME then writes (Redis < 5)
local name, expected, next_due = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local due = tonumber(redis.call("ZSCORE", KEYS[9], name))
if due == nil or due ~= expected then return {0} end
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if now < due then return {0} end
local spec = redis.call("HGET", KEYS[8], name)
if not spec then
  redis.call("ZREM", KEYS[9], name)
  return {0}
end
redis.call("ZADD", KEYS[9], math.max(next_due, due + 1), name)
local job = cjson.decode(spec).job
local id = tonumber(redis.call("GET", KEYS[2]) or 0) + 1
local holder = unique_holder(KEYS[1], job[9], string.format("%d", id))
if holder then return {2, tonumber(holder)} end
redis.call("INCR", KEYS[2])
local k = {jobs = KEYS[4], types = KEYS[3], inactive = KEYS[5], delayed = KEYS[6], events = KEYS[7]}
save_one(KEYS[1], k, job, 1, id, string.format("%d", now))
return {1, id}
