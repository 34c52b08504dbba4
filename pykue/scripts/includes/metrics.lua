--- @include "keys"
--- @include "number_arg"
-- Per-type counters and histograms for Prometheus (pykue/metrics.py reads them), in the hash
-- type_stats_key(base, type). Every finished attempt that started is one field
-- "<outcome>:<d>:<w>": its outcome ("c" complete, "f" failed for good, "r" to be retried),
-- the bound in ms of its duration's bucket (started -> finished) and of its wait's (queued ->
-- started), each the first of METRIC_BUCKETS_MS at or above it, or "inf"; the reader adds the
-- fields up into the counts and both histograms. One field for all three, because each
-- HINCRBY costs Redis as much as the rest of the observation: "d:sum" and "w:sum" (ms) make
-- three calls per attempt, where a field per count and per histogram made five. An attempt
-- that never started counts in "complete" or "failed" alone (so did every attempt before
-- 2026-12-08, with "<d|w>:<le>" per histogram: the reader adds those in). A script observes
-- its jobs into `job_stats`, then writes them with flush_job_stats: one HINCRBY per field
-- touched, however many jobs the batch had. Never expires: counters only grow, one hash per type.
local METRIC_BUCKETS_MS = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 1800000}
local job_stats = {}
-- The bounds as text, written out: joining a number to a string costs Lua a printf, and a
-- table made here is made again at every call of a script.
local METRIC_BOUNDS = {"5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000", "60000",
  "300000", "1800000"}
local OUTCOME_PREFIX = {complete = "c:", failed = "f:", retry = "r:"}
local function metric_bound(ms)
  for i, le in ipairs(METRIC_BUCKETS_MS) do if ms <= le then return METRIC_BOUNDS[i] end end
  return "inf"
end
local function add_stat(jtype, field, n)
  local t = job_stats[jtype]
  if not t then t = {}; job_stats[jtype] = t end
  t[field] = (t[field] or 0) + n
end
-- Where the wait began: the latest of its creation, its promotion and its last failure that
-- came before it started (a retried job waits again from its failure or its backoff's end).
local function wait_began(h, started)
  local began = tonumber(h[1]) or started
  for i = 2, 3 do
    local t = tonumber(h[i])
    if t and t > began and t <= started then began = t end
  end
  return began
end
-- One finished attempt of the job `jkey` of `jtype` at `now`; `outcome` "complete", "failed"
-- (for good) or "retry" (counted in the histograms only). Reads the hash before it changes,
-- unless the caller read them already: `h` = {created_at, promote_at, failed_at, started_at}.
local function observe_attempt(jkey, jtype, now, outcome, h)
  local prefix = OUTCOME_PREFIX[outcome] or error("observe_attempt: no outcome " .. tostring(outcome))
  h = h or redis.call("HMGET", jkey, "created_at", "promote_at", "failed_at", "started_at")
  local started = tonumber(h[4])
  if started then
    local duration, wait = math.max(0, now - started), math.max(0, started - wait_began(h, started))
    add_stat(jtype, prefix .. metric_bound(duration) .. ":" .. metric_bound(wait), 1)
    add_stat(jtype, "d:sum", duration)
    add_stat(jtype, "w:sum", wait)
  elseif outcome ~= "retry" then
    add_stat(jtype, outcome, 1)
  end
end
-- A library (pykue/lua.py) keeps job_stats between calls: each call starts it afresh.
local function reset_job_stats() job_stats = {} end
local function flush_job_stats(base)
  for jtype, fields in pairs(job_stats) do
    local key = type_stats_key(base, jtype)
    for field, n in pairs(fields) do redis.call("HINCRBY", key, field, number_arg(n)) end
  end
  job_stats = {}
end
