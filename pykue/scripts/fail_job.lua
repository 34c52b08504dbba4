--[[ A failed attempt, only if the given claim still holds. Stores the error, logs its
  summary, publishes `error`, counts the attempt, then either schedules the retry (delayed
  with the backoff delay, or inactive at once) and publishes `failed attempt`, or fails the
  job for good and publishes `failed` (Kue's events and order: lib/queue/worker.js).
  KEYS[1] key prefix ("q:"), KEYS[2] the job's hash, KEYS[3] its log, KEYS[4] events channel,
  KEYS[5] this minute's failed counter (of ARGV[3]), KEYS[6..10] the five state sets,
  KEYS[11] all jobs set (for a job its retention rule removes)
  Derived from the prefix: the job's type's sets, token list and stats (includes/metrics.lua);
  on a final failure, its unique key and its type's retention index and the jobs that index
  drops (includes/finish.lua); for a workflow's step that failed for good, its flow's hash and
  the steps it stops (includes/workflow.lua).
  ARGV[1] job id, ARGV[2] claim token, ARGV[3] now (ms), ARGV[4] error text,
  ARGV[5] log summary, ARGV[6] message JSON, ARGV[7] retry delay ms (0: retry at once),
  ARGV[8] "ttl" when the attempt ran out of time (then Kue's `ttl exceeded` comes first and
  `ttl exceeded ack` right after `error`, as a Kue worker sends them: start, ttl exceeded,
  error, ttl exceeded ack, failed)
  Returns attempts remaining + 1 (1: failed for good), or 0 (CLAIM_LOST).
]]
--- @include "claims"
--- @include "publish"
--- @include "place"
--- @include "workflow"
--- @include "finish"
--- @include "metrics"
local q = {base = KEYS[1], events = KEYS[4], states = state_keys(6), jobs = KEYS[11]}
local jkey = KEYS[2]
local id, claim, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local message, delay = ARGV[6], tonumber(ARGV[7])
local h = redis.call("HMGET", jkey, "type", "state", "priority", "pykue_claim", "max_attempts", "attempts", "workerId")
if not claim_holds(h[2], h[4], h[7], h[1], claim) then return 0 end
local jtype, priority = h[1], tonumber(h[3]) or 0
local max, made = tonumber(h[5]) or 1, tonumber(h[6]) or 0
if made < max then made = made + 1 end
local remaining = math.max(0, max - made)
local new = "failed"
if remaining > 0 then new = (delay > 0) and "delayed" or "inactive" end
local fields = {"error", ARGV[4], "failed_at", now, "updated_at", now, "attempts", made, "state", new}
if new == "delayed" then
  fields[#fields + 1] = "delay"; fields[#fields + 1] = delay
  fields[#fields + 1] = "promote_at"; fields[#fields + 1] = now + delay
end
observe_attempt(jkey, jtype, now, new == "failed" and "failed" or "retry"); flush_job_stats(q.base)
if ARGV[8] == "ttl" then publish(q.events, id, "ttl exceeded", "") end
redis.call("HSET", jkey, unpack(fields))
redis.call("HDEL", jkey, "pykue_claim")
redis.call("RPUSH", KEYS[3], ARGV[5])
publish(q.events, id, "error", "," .. cjson.encode(ARGV[4]))
if ARGV[8] == "ttl" then publish(q.events, id, "ttl exceeded ack", "") end
if new == "delayed" then
  place(q, id, jtype, "active", "delayed", priority, now + delay)
elseif new == "inactive" then
  place(q, id, jtype, "active", "inactive", priority, priority)
  publish(q.events, id, "enqueue", "," .. cjson.encode(jtype))
else
  place(q, id, jtype, "active", "failed", priority, priority)
  count_metric(KEYS[5], 1)
  flow_failed(q, jkey, id, now)
end
if remaining > 0 then
  publish(q.events, id, "failed attempt", "," .. message .. "," .. made)
else
  publish(q.events, id, "failed", "," .. message .. ",null")
  finish_job(q, id, jtype, "failed", now)
end
return remaining + 1
