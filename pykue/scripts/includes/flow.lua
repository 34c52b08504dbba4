--- @include "keys"
-- A workflow (pykue/canvas.py) keeps its links in one hash, flow_key(base, fid), where fid
-- is its first step's job id (step s, from 1, is job fid + s - 1: its ids were reserved
-- together). Fields: n (steps), live (steps not removed), shape (JSON: the steps whose
-- results the workflow returns, for handles), failed (the first step that failed for good),
-- and per step
-- s: m:s its links as JSON ({"c": children, "p": parents, "mode": how its data takes the
-- parents' results, "keep": a child wants its result kept, "spec", "pre", "suf": the job to
-- create, see workflow.lua}), w:s parents still to complete, s:s its status (none: not
-- created yet; c created, d completed, f failed for good, x removed), r:s its result JSON
-- when kept. A step's job names its place in hash field pykue_flow, "<fid>:<s>".

local function flow_ref(ref)
  local fid, step = string.match(ref, "^(%d+):(%d+)$")
  return fid, tonumber(step)
end

-- The flow id, step and flow key of a step's `ref` (its job's pykue_flow field), or nil.
local function step_of(base, ref)
  if not ref then return nil end
  local fid, step = flow_ref(ref)
  if not fid then return nil end
  return fid, step, flow_key(base, fid)
end

local function step_id(fid, step) return string.format("%d", tonumber(fid) + step - 1) end

-- The steps below `step` that have no job yet (and, through them, theirs), each once,
-- parents before children.
local function pending_below(fkey, step)
  local found, seen, todo = {}, {}, {step}
  while #todo > 0 do
    local s = table.remove(todo, 1)
    local meta = redis.call("HGET", fkey, "m:" .. s)
    for _, child in ipairs(meta and cjson.decode(meta).c or {}) do
      if not seen[child] then
        seen[child] = true
        if not redis.call("HGET", fkey, "s:" .. child) then
          found[#found + 1] = child
          todo[#todo + 1] = child
        end
      end
    end
  end
  return found
end

-- A step's job is being removed (remove_job, so also removeOnComplete and retention): its step
-- is gone, and so are the steps below it that will never be created now (it had not finished);
-- the flow's hash goes with its last step.
local function flow_forget(base, jkey)
  local h = redis.call("HMGET", jkey, "pykue_flow", "state")
  local fid, step, fkey = step_of(base, h[1])
  if not fid then return end
  local status = redis.call("HGET", fkey, "s:" .. step)
  if status == "x" or redis.call("HEXISTS", fkey, "m:" .. step) == 0 then return end
  local gone = {step}
  if h[2] ~= "complete" and h[2] ~= "failed" then
    for _, s in ipairs(pending_below(fkey, step)) do gone[#gone + 1] = s end
  end
  for _, s in ipairs(gone) do redis.call("HSET", fkey, "s:" .. s, "x") end
  if redis.call("HINCRBY", fkey, "live", -#gone) <= 0 then redis.call("DEL", fkey) end
end
