-- Lua's mirror of pykue/keys.py (tests/unit/test_lua_keys.py checks they agree).
-- Scripts receive the prefix base ("q:") and derive per-job and per-type keys from it,
-- because those names are only known after reading the job hash.
local function ids_key(base) return base .. "ids" end
local function types_key(base) return base .. "job:types" end
local function jobs_key(base) return base .. "jobs" end
local function events_key(base) return base .. "events" end
local function work_time_key(base) return base .. "stats:work-time" end
local function paused_key(base) return base .. "pykue:paused" end
local function job_key(base, id) return base .. "job:" .. id end
local function log_key(base, id) return base .. "job:" .. id .. ":log" end
local function state_key(base, state) return base .. "jobs:" .. state end
local function type_state_key(base, jtype, state) return base .. "jobs:" .. jtype .. ":" .. state end
local function tokens_key(base, jtype) return base .. jtype .. ":jobs" end
local function search_object_key(base, id) return base .. "search:object:" .. id end
local function search_word_key(base, word) return base .. "search:word:" .. word end
local function worker_key(base, wid) return base .. "pykue:worker:" .. wid end
local function metric_key(base, kind, minute) return base .. "pykue:metrics:" .. kind .. ":" .. minute end
local function zid(id)
  local s = tostring(id)
  return string.format("%02d|%s", #s, s)
end
-- A claim token names the worker process holding the job: "<worker id>/<attempts>/<now>".
local function claim_token(wid, attempts, now) return wid .. "/" .. (attempts or "0") .. "/" .. now end
local function claim_worker(claim) return string.match(claim, "^(.*)/[^/]*/[^/]*$") end
-- A pykue claim holds while the job is active, carries that claim, and still has the workerId
-- the claim wrote: Node Kue rewrites workerId when it activates a job but never touches
-- pykue_claim, so a token left behind by a job Node took over cannot pass.
local function claim_holds(state, stored_claim, worker_id, jtype, claim)
  if state ~= "active" or not claim or claim == "" or stored_claim ~= claim then return false end
  local wid = claim_worker(claim)
  return wid ~= nil and worker_id ~= nil and string.sub(worker_id, 1, #wid + 1) == wid .. ":"
end
local function held_claim(jkey)
  local h = redis.call("HMGET", jkey, "state", "pykue_claim", "workerId", "type")
  if claim_holds(h[1], h[2], h[3], h[4], h[2]) then return h[2] end
  return nil
end
local STATES = {"inactive", "active", "complete", "failed", "delayed"}
