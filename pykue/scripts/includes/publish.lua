-- Kue's event message: {"id":<id>,"event":"<name>","args":["<name>",...]}.
-- `tail` is the JSON of the remaining args with a leading comma (",\"email\"") or "".
local function publish(base, id, event, tail)
  redis.call("PUBLISH", events_key(base),
    '{"id":' .. id .. ',"event":"' .. event .. '","args":["' .. event .. '"' .. (tail or "") .. ']}')
end

-- Per-minute counters for the dashboard's chart, kept two hours (keys Kue never reads).
local function count_metric(base, kind, now, n)
  local key = metric_key(base, kind, math.floor(now / 60000))
  if redis.call("INCRBY", key, n or 1) == (n or 1) then redis.call("EXPIRE", key, 7200) end
end
