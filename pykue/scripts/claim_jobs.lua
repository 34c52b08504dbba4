--[[ Claim up to n inactive jobs of each given type for one worker process (see
  includes/claim.lua). Consumes one wake-up token per job claimed beyond the tokens the
  caller already popped.
  ARGV[1] key base, ARGV[2] now (ms), ARGV[3] worker process id, ARGV[4] tokens already popped
       (with ARGV[5] the type they were popped from, or ""), then pairs: type, n
  Returns a flat list per claimed job: id, claim, n_fields, field, value, ...
]]
--- @include "keys"
--- @include "publish"
--- @include "place"
--- @include "claim"
local base, now, wid = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local popped, popped_type = tonumber(ARGV[4]), ARGV[5]
local out = {}
for a = 6, #ARGV, 2 do
  local jtype = ARGV[a]
  local extra = claim_type(base, now, wid, jtype, tonumber(ARGV[a + 1]), out)
  if jtype == popped_type then extra = extra - popped end
  if extra > 0 then redis.call("LTRIM", tokens_key(base, jtype), extra, -1) end
end
return out
