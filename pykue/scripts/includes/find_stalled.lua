--- @include "keys"
--- @include "zid"
--- @include "claims"
--- @include "publish"
--- @include "place"
local FREE_STALLS = 1
local STALLED_LINE = "Stalled: the worker running this job stopped (no heartbeat); requeued"

-- A job whose worker died: the first time it is requeued without spending an attempt (field
-- pykue_stalls counts, at-least-once); returns false when it stalled before (perhaps it kills
-- its worker), to be failed by the caller, spending an attempt.
local function requeue_stalled(q, id, now)
  local jkey = job_key(q.base, id)
  if redis.call("HINCRBY", jkey, "pykue_stalls", 1) > FREE_STALLS then return false end
  local h = redis.call("HMGET", jkey, "type", "priority")
  local priority = tonumber(h[2]) or 0
  redis.call("HSET", jkey, "state", "inactive", "updated_at", now)
  redis.call("HDEL", jkey, "pykue_claim")
  redis.call("RPUSH", log_key(q.base, id), STALLED_LINE)
  place(q, id, h[1], "active", "inactive", priority, priority)
  publish(q.events, id, "enqueue", "," .. cjson.encode(h[1]))
  return true
end

-- Active jobs whose pykue worker's lease has expired, by the worker id inside each claim
-- token (leases: keys.py's worker_lease, derived here from each claim). Returns {id, claim,
-- ...} of the stalled jobs to fail, and {id, claim, ...} of the active jobs claimed by `wid`
-- itself (the caller gives back those it is not running). `q`: {base, events, states}.
local function find_stalled(q, now, wid)
  local stalled, mine = {}, {}
  local alive = {[wid] = true}
  for _, member in ipairs(redis.call("ZRANGE", q.states.active, 0, -1)) do
    local id = zid_id(member)
    local claim = held_claim(job_key(q.base, id))
    local owner = claim and claim_worker(claim)
    if owner == wid then
      mine[#mine + 1] = id
      mine[#mine + 1] = claim
    elseif owner then
      if alive[owner] == nil then alive[owner] = redis.call("EXISTS", worker_key(q.base, owner)) == 1 end
      if not alive[owner] and not requeue_stalled(q, id, now) then
        stalled[#stalled + 1] = id
        stalled[#stalled + 1] = claim
      end
    end
  end
  return stalled, mine
end
