--- @include "number_arg"
-- Kue's event message on the events channel: {"id":<id>,"event":"<name>","args":["<name>",...]}.
-- `tail` is the JSON of the remaining args with a leading comma (",\"email\"") or "".
local function publish(events, id, event, tail)
  redis.call("PUBLISH", events,
    '{"id":' .. id .. ',"event":"' .. event .. '","args":["' .. event .. '"' .. (tail or "") .. ']}')
end

-- Adds n to a per-minute counter of the dashboard's chart (`key`: keys.py's metric()), kept
-- two hours (keys Kue never reads).
local function count_metric(key, n)
  if redis.call("INCRBY", key, number_arg(n)) == n then redis.call("EXPIRE", key, 7200) end
end
