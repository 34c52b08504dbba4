--- @include "keys"
--- @include "zid"
--- @include "claims"
--- @include "publish"
--- @include "place"
--- @include "limits"
--- @include "number_arg"
-- Claim up to `want` inactive jobs of one type for worker process `wid`: highest priority
-- first, FIFO within a priority (ZPOPMIN: lowest score, then lowest zid). Each job becomes
-- active in its hash and both indexes with a fencing claim token, and `start` is published.
-- Appends per job to `out`: id, claim, n_fields, field, value, ... (the hash as it was before
-- the claim; the caller applies the claim's changes). Returns how many jobs were claimed.
-- `rate`: nil, or the type's rate window ({key, Redis now}) to note each start in.
local function claim_jobs_of(q, now, wid, jtype, want, out, rate)
  local got, n = 0, #out
  local members = redis.call("ZPOPMIN", type_state_key(q.base, jtype, "inactive"), number_arg(want))
  if #members == 0 then return 0 end
  -- made once per call, not per job: a number written as text costs Lua a printf
  local now_text, worker_id = string.format("%d", now), wid .. ":" .. jtype
  local start_tail, active_key = "," .. cjson.encode(jtype) .. ",null", type_state_key(q.base, jtype, "active")
  for m = 1, #members, 2 do
    local member = members[m]
    local id = zid_id(member)
    local jkey = job_key(q.base, id)
    local fields = redis.call("HGETALL", jkey)
    local f = {}
    for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
    if f.state == "inactive" then
      local priority = tonumber(f.priority) or 0
      local claim = claim_token(wid, f.attempts, now_text)
      redis.call("ZREM", q.states.inactive, member)
      redis.call("ZADD", q.states.active, number_arg(state_score("active", priority, nil, f.ttl, now)), member)
      redis.call("ZADD", active_key, number_arg(priority), member)
      redis.call("HSET", jkey, "state", "active", "started_at", now_text, "updated_at", now_text,
        "workerId", worker_id, "pykue_claim", claim)
      publish(q.events, id, "start", start_tail)
      if rate then redis.call("ZADD", rate[1], rate[2], id .. "/" .. claim) end
      out[n + 1], out[n + 2], out[n + 3] = id, claim, #fields / 2
      n = n + 3
      for i = 1, #fields do out[n + i] = fields[i] end
      n = n + #fields
      got = got + 1
    else  -- its hash moved on (or is gone) without this index: a stale Kue Job's write
      redis.call("ZREM", q.states.inactive, member)
    end
  end
  return got
end

-- claim_jobs_of within the type's fleet-wide limits (includes/limits.lua), which may allow
-- fewer than `want`; when they stop the claim short of jobs that wait, q.waits (if given)
-- gets the type and how long (ms) the worker should wait before asking again.
-- `q`: {base, events, states, waits}.
local function claim_type(q, now, wid, jtype, want, out)
  local spec = redis.call("HGET", limits_key(q.base), jtype)
  if not spec then return claim_jobs_of(q, now, wid, jtype, want, out, nil) end
  local allowed, wait, rkey, rnow, window = limited(q.base, jtype, want, spec)
  local got = 0
  if allowed > 0 then
    got = claim_jobs_of(q, now, wid, jtype, allowed, out, rkey and {rkey, rnow})
    if rkey and got > 0 then redis.call("PEXPIRE", rkey, window) end
  end
  if allowed < want and got == allowed and q.waits then
    q.waits[#q.waits + 1] = jtype
    q.waits[#q.waits + 1] = wait
  end
  return got
end
