--- @include "keys"
--- @include "number_arg"
-- Per-type counters and histograms for Prometheus (pykue/metrics.py reads them), in the hash
-- type_stats_key(base, type): "complete" and "failed" (for good) count jobs; every finished
-- attempt is observed twice, its duration (started -> finished, "d:") and its wait (queued
-- -> started, "w:"), each as "<d|w>:<le>" (observations up to `le` ms and above the bound
-- before it; the reader sums them), "<d|w>:inf" and "<d|w>:sum" (ms). A script observes its
-- jobs into `job_stats`, then writes them with flush_job_stats: one HINCRBY per field touched,
-- however many jobs the batch had. Never expires: counters only grow, one hash per type.
local METRIC_BUCKETS_MS = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 1800000}
local job_stats = {}
-- The fields "<d|w>:<le>" of METRIC_BUCKETS_MS, written out: joining a number to a string
-- costs Lua a printf, and a table made here is made again at every call of a script.
local METRIC_FIELDS = {
  d = {"d:5", "d:10", "d:25", "d:50", "d:100", "d:250", "d:500", "d:1000", "d:2500", "d:5000", "d:10000", "d:30000",
    "d:60000", "d:300000", "d:1800000", "d:inf"},
  w = {"w:5", "w:10", "w:25", "w:50", "w:100", "w:250", "w:500", "w:1000", "w:2500", "w:5000", "w:10000", "w:30000",
    "w:60000", "w:300000", "w:1800000", "w:inf"},
}
local function metric_field(kind, ms)
  local fields = METRIC_FIELDS[kind]
  for i, le in ipairs(METRIC_BUCKETS_MS) do if ms <= le then return fields[i] end end
  return fields[#fields]
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
  h = h or redis.call("HMGET", jkey, "created_at", "promote_at", "failed_at", "started_at")
  local started = tonumber(h[4])
  if started then
    local duration, wait = math.max(0, now - started), math.max(0, started - wait_began(h, started))
    add_stat(jtype, metric_field("d", duration), 1)
    add_stat(jtype, "d:sum", duration)
    add_stat(jtype, metric_field("w", wait), 1)
    add_stat(jtype, "w:sum", wait)
  end
  if outcome ~= "retry" then add_stat(jtype, outcome, 1) end
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
