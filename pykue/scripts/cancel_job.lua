--[[ Cancel a job: a queued, delayed or running job fails for good with the given error, and
  is never retried (Kue's `failed` event, then pykue's `cancelled`). A running job loses its
  claim here, so its worker's late result or failure changes nothing; a pykue worker holding
  it finds "<id> <claim>" in its cancel set (keys.py's cancel_requests, derived from the
  claim) at its next upkeep tick and stops that run. A finished job is left as it is.
  KEYS[1] key prefix ("q:"), KEYS[2] the job's hash, KEYS[3] its log, KEYS[4] events channel,
  KEYS[5] this minute's failed counter (of ARGV[2]), KEYS[6..10] the five state sets,
  KEYS[11] all jobs set (for a job its retention rule removes)
  Derived from the prefix: the job's type's sets and stats (includes/metrics.lua: a cancel
  counts as failed for good; a running job's attempt is timed), the cancel set of the worker
  holding it, its unique key and its type's retention index (includes/finish.lua).
  ARGV[1] job id, ARGV[2] now (ms), ARGV[3] error text ("Cancelled: <reason>"),
  ARGV[4] the error as a JSON string (the events' message)
  Returns 1 (CANCELLED: it was queued or delayed), 3 (STOPPING: it was running), 2 (FINISHED:
  complete or failed already, nothing changed), or -1 (NOT_FOUND).
]]
--- @include "claims"
--- @include "publish"
--- @include "place"
--- @include "finish"
--- @include "workflow"
--- @include "metrics"
local q = {base = KEYS[1], events = KEYS[4], states = state_keys(6), jobs = KEYS[11]}
local jkey, id, now = KEYS[2], ARGV[1], tonumber(ARGV[2])
local h = redis.call("HMGET", jkey, "type", "state", "priority", "max_attempts", "attempts")
if not h[1] then return -1 end
local jtype, old, priority = h[1], h[2], tonumber(h[3]) or 0
if old == "complete" or old == "failed" then return 2 end
local claim = held_claim(jkey)
if old == "active" then observe_attempt(jkey, jtype, now, "failed") else add_stat(jtype, "failed", 1) end
flush_job_stats(q.base)
local fields = {"error", ARGV[3], "failed_at", now, "updated_at", now, "state", "failed"}
local made = tonumber(h[5]) or 0
if old == "active" and made < (tonumber(h[4]) or 1) then
  fields[#fields + 1] = "attempts"; fields[#fields + 1] = made + 1
end
redis.call("HSET", jkey, unpack(fields))
redis.call("HDEL", jkey, "pykue_claim")
redis.call("RPUSH", KEYS[3], ARGV[3])
place(q, id, jtype, q.states[old] and old or nil, "failed", priority, priority)
count_metric(KEYS[5], 1)
publish(q.events, id, "failed", "," .. ARGV[4] .. ",null")
publish(q.events, id, "cancelled", "," .. ARGV[4])
flow_failed(q, jkey, id, now, "cancelled")  -- first: a retention rule may remove the job
finish_job(q, id, jtype, "failed", now)
if old ~= "active" then return 1 end
if claim then
  local requests = cancel_key(q.base, claim_worker(claim))
  redis.call("SADD", requests, id .. " " .. claim)
  redis.call("PEXPIRE", requests, 3600000)
end
return 3
