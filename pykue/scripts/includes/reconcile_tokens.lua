--- @include "keys"
-- Push the wake-up tokens missing for each type in `types` (one per inactive job of the type,
-- at most `limit` per type and call): a token lost with a crash would leave jobs unseen.
local function reconcile_tokens(base, types, limit)
  for _, jtype in ipairs(types) do
    local tokens = tokens_key(base, jtype)
    local missing = redis.call("ZCARD", type_state_key(base, jtype, "inactive")) - redis.call("LLEN", tokens)
    for _ = 1, math.min(missing, limit) do redis.call("LPUSH", tokens, 1) end
  end
end
