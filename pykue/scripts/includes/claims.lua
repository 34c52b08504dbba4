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
