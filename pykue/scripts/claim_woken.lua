--[[ The claim a worker sends right behind its BLPOP on the wake-up token lists, on the same
  connection: Redis runs it the moment the BLPOP returns, so a worker woken by a new job
  claims it in the same round trip. It cannot know what the BLPOP returned (a token of some
  type, the worker's wake key, or a timeout), so it claims as claim_jobs does with no token
  popped, consumes the tokens it finds for the jobs it claims, and reports per type how many
  it claimed and consumed: the worker gives back the token its BLPOP took when that one was
  already counted here. Its clock is Redis's own, since the caller's is as old as the wait.
  ARGV[1] key base, ARGV[2] worker process id, then pairs: type, n
  Returns {now (ms), {type, claimed, tokens consumed, ...}, claim_jobs' flat list}
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
--- @include "claim"
local base, wid = ARGV[1], ARGV[2]
local counts, out = {}, {}
if redis.call("ZCARD", state_key(base, "inactive")) == 0 then return {0, counts, out} end
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for a = 3, #ARGV, 2 do
  local jtype = ARGV[a]
  local got = claim_type(base, now, wid, jtype, tonumber(ARGV[a + 1]), out)
  if got > 0 then
    local tokens = tokens_key(base, jtype)
    local consumed = math.min(got, redis.call("LLEN", tokens))
    if consumed > 0 then redis.call("LTRIM", tokens, consumed, -1) end
    counts[#counts + 1] = jtype
    counts[#counts + 1] = got
    counts[#counts + 1] = consumed
  end
end
return {now, counts, out}
