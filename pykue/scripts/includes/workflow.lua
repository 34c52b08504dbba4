--- @include "flow"
--- @include "write_job"
--- @include "finish"
-- The next steps of a workflow are created by the script that completes (or fails) the step
-- before them, in the same atomic call: a worker dying between the two cannot lose a link,
-- and two members of a chord completing at once on two workers create its callback once.
-- A step's job arguments are stored with it (m:s "spec", as save_jobs takes them, data
-- left out); its data is "pre" .. X .. "suf", where X is the parent's result JSON (mode
-- "one"), the JSON list of its parents' results in order (mode "all"), or nothing ("none"):
-- results are spliced as the text the worker stored, never decoded and re-encoded here.

-- A step's new job (written by write_job) in its indexes: all jobs, its state's global set
-- (`state_set`) and type set, a wake-up token when inactive. Its type is in the job types
-- set already: start_workflow.lua added every step's.
local function index_step(base, all_jobs, state_set, jtype, member, state, priority, delay, now)
  redis.call("ZADD", all_jobs, priority, member)
  redis.call("ZADD", state_set, (state == "delayed") and (now + delay) or priority, member)
  redis.call("ZADD", type_state_key(base, jtype, state), priority, member)
  if state == "inactive" then redis.call("LPUSH", tokens_key(base, jtype), 1) end
end

-- Creates step `step` with `data`, in `state` (nil: inactive or delayed); returns its job id.
local function create_step(q, fid, fkey, step, meta, data, now, state)
  local id = step_id(fid, step)
  local spec = meta.spec
  spec[2] = data
  local member, made, priority, delay = write_job(q.base, q.events, spec, 1, id, string.format("%d", now), {}, state)
  redis.call("HSET", job_key(q.base, id), "pykue_flow", fid .. ":" .. step)
  index_step(q.base, all_jobs_key(q.base), q.states[made], spec[1], member, made, priority, delay, now)
  redis.call("HSET", fkey, "s:" .. step, "c")
  return id
end

-- The JSON list of the parents' kept results, in order (read 1000 at a time: unpack has a limit).
local function parents_results(fkey, meta)
  local results = {}
  for first = 1, #meta.p, 1000 do
    local fields = {}
    for n = first, math.min(first + 999, #meta.p) do fields[#fields + 1] = "r:" .. meta.p[n] end
    for _, r in ipairs(redis.call("HMGET", fkey, unpack(fields))) do results[#results + 1] = r or "null" end
  end
  return "[" .. table.concat(results, ",") .. "]"
end

-- The job `jkey` completed with `result` (JSON): if it is a workflow's step, keep its result
-- when a child wants it, and create each child whose parents have now all completed.
-- A step completes once: a re-run of a completed step advances nothing.
local function flow_completed(q, jkey, result, now, ref)
  if ref == nil then ref = redis.call("HGET", jkey, "pykue_flow") end  -- false: read, and not a step
  local fid, step, fkey = step_of(q.base, ref)
  if not fid then return end
  local h = redis.call("HMGET", fkey, "m:" .. step, "s:" .. step)
  if not h[1] or h[2] ~= "c" then return end
  redis.call("HSET", fkey, "s:" .. step, "d")
  local meta = cjson.decode(h[1])
  if meta.keep then redis.call("HSET", fkey, "r:" .. step, result) end
  for _, child in ipairs(meta.c or {}) do
    if redis.call("HINCRBY", fkey, "w:" .. child, -1) <= 0 and not redis.call("HGET", fkey, "s:" .. child) then
      local cmeta = cjson.decode(redis.call("HGET", fkey, "m:" .. child))
      local x = ""
      if cmeta.mode == "one" then x = result elseif cmeta.mode == "all" then x = parents_results(fkey, cmeta) end
      create_step(q, fid, fkey, child, cmeta, cmeta.pre .. x .. cmeta.suf, now)
    end
  end
end

-- The job `jkey` (id `id`) failed for good (`how`: "failed", or "cancelled" from a script that
-- cancels jobs): if it is a workflow's step, the steps below it will never run, so each is
-- created failed, naming the step that stopped them (and `failed` events are published, for
-- whoever waits on them); the flow remembers its first failure.
local function flow_failed(q, jkey, id, now, how)
  local fid, step, fkey = step_of(q.base, redis.call("HGET", jkey, "pykue_flow"))
  if not fid then return end
  local status = redis.call("HGET", fkey, "s:" .. step)
  if status ~= "c" and status ~= "d" then return end
  redis.call("HSET", fkey, "s:" .. step, "f")
  redis.call("HSETNX", fkey, "failed", step)
  local why = "Workflow stopped: step " .. step .. " (job " .. id .. ") " .. (how or "failed")
  local message = cjson.encode(why)
  local stopped = {}
  for _, s in ipairs(pending_below(fkey, step)) do
    local meta = cjson.decode(redis.call("HGET", fkey, "m:" .. s))
    local x = (meta.mode == "none") and "" or "null"
    local sid = create_step(q, fid, fkey, s, meta, meta.pre .. x .. meta.suf, now, "failed")
    redis.call("HSET", job_key(q.base, sid), "error", why, "failed_at", now)
    redis.call("HSET", fkey, "s:" .. s, "f")
    publish(q.events, sid, "failed", "," .. message .. ",null")
    stopped[#stopped + 1] = {sid, meta.spec[1]}
  end
  -- Their type's retention rule applies to them as to any failed job (it may remove them, and
  -- with the last one the flow's hash), once every stopped step exists.
  for _, s in ipairs(stopped) do finish_job(q, s[1], s[2], "failed", now) end
end
