--[[ Finish jobs successfully, each only if its worker's claim still holds (a TTL-expired or
  recovered job cannot be completed by its stale worker). Per job, Kue's effects: duration,
  result, progress 100, complete state, attempts, removeOnComplete, `complete` event, then
  pykue's unique key and retention rules (includes/finish.lua); for the
  batch, one work-time increment (Kue's stats:work-time) and one per-minute counter.
  Then, in the same call, the worker may refill the slots it just freed: up to n more jobs of
  each given type are claimed for it, as claim_jobs does (one wake-up token each, and only
  while it holds its lease), which saves the worker a round trip per batch and keeps its
  slots busy. Completions need no lease: a claim that still holds is enough.
  KEYS[1] key prefix ("q:"), KEYS[2] events channel, KEYS[3] all jobs set, KEYS[4] work-time,
  KEYS[5] this minute's completed counter (of ARGV[1]), KEYS[6..10] the five state sets,
  KEYS[11] the worker's lease key (read only to refill; declared only with a worker id)
  Derived from the prefix: the batch's jobs' hashes, logs and search entries and their words'
  sets (a batch of any size costs no key argument per job), the hashes of the jobs claimed to
  refill, the types' sets and token lists, the limits hash and the rate windows of limited
  types (a refill stays within the fleet-wide limits, includes/limits.lua), the types' stats
  (includes/metrics.lua); for a workflow's step, its flow's hash and the next steps it creates
  (includes/workflow.lua: their hashes, indexes, tokens, search entries).
  ARGV[1] now (ms), ARGV[2] worker process id ("": no refill), ARGV[3] the claims' time (ms),
       ARGV[4] k, then k pairs: type, n to claim; then triples: job id, claim token, result
       JSON or ""
  Returns {replies, claimed, refill status}: per job 1 (DONE), or 0 (CLAIM_LOST: nothing was
  changed for that job); claim_jobs' flat list for the jobs claimed; 1 (DONE), or -2
  (NO_LEASE: a refill was asked for a worker without a lease, and nothing was claimed).
]]
--- @include "lease"
--- @include "claims"
--- @include "remove"
--- @include "finish"
--- @include "claim"
--- @include "workflow"
--- @include "metrics"
--- @include "number_arg"
local q = {base = KEYS[1], events = KEYS[2], jobs = KEYS[3], states = state_keys(6)}
local now_text, wid, claimed_at, k = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = tonumber(now_text)
local replies, work_time, completed = {}, 0, 0
for a = 5 + 2 * k, #ARGV, 3 do
  local id, claim, result = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local jkey = job_key(q.base, id)
  -- everything this job's completion reads, in one call: per job, calls cost more than fields
  local h = redis.call("HMGET", jkey, "type", "state", "priority", "pykue_claim", "started_at",
    "max_attempts", "attempts", "removeOnComplete", "workerId", "created_at", "promote_at", "failed_at",
    "pykue_flow", "pykue_unique", "pykue_unique_for", "pykue_keep_complete")
  if not claim_holds(h[2], h[4], h[9], h[1], claim) then
    replies[#replies + 1] = 0
  else
    local jtype, priority = h[1], tonumber(h[3]) or 0
    local duration = now - (tonumber(h[5]) or now)
    local fields = {"duration", number_arg(duration), "progress", "100", "state", "complete", "updated_at", now_text}
    observe_attempt(jkey, jtype, now, "complete", {h[10], h[11], h[12], h[5]})
    local made = tonumber(h[7]) or 0
    if made < (tonumber(h[6]) or 1) then fields[#fields + 1] = "attempts"; fields[#fields + 1] = number_arg(made + 1) end
    if result ~= "" then fields[#fields + 1] = "result"; fields[#fields + 1] = result else result = "null" end
    redis.call("HSET", jkey, unpack(fields))
    redis.call("HDEL", jkey, "pykue_claim")
    place(q, id, jtype, "active", "complete", priority, priority)
    publish(q.events, id, "complete", "," .. result .. ",null")
    flow_completed(q, jkey, result, now, h[13])
    if h[8] and h[8] ~= "" then
      remove_job(q, id, jtype)
    else
      finish_job(q, id, jtype, "complete", now, {h[14], h[15], h[16]})
    end
    work_time = work_time + duration
    completed = completed + 1
    replies[#replies + 1] = 1
  end
end
if completed > 0 then
  flush_job_stats(q.base)
  redis.call("INCRBY", KEYS[4], number_arg(work_time))
  count_metric(KEYS[5], completed)
end
local claimed = {}
if k > 0 and not holds_lease(KEYS[11]) then return {replies, claimed, NO_LEASE} end
for a = 5, 4 + 2 * k, 2 do
  local jtype = ARGV[a]
  local got = claim_type(q, claimed_at, wid, jtype, tonumber(ARGV[a + 1]), claimed)
  if got > 0 then redis.call("LTRIM", tokens_key(q.base, jtype), number_arg(got), -1) end
end
return {replies, claimed, 1}
