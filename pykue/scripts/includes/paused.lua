-- The types paused for every pykue worker (queue.pause(type)).
local function paused_types(key) return redis.call("SMEMBERS", key) end
