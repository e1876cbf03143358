/**
 * MERGE: writes versioned records into one hash, each only if it wins over the stored one (higher
 * version; equal versions: the greater instance id, byte by byte), atomically, and publishes what
 * it wrote in the same step, so a message never announces a value that is not stored.
 *
 *   KEYS[1]  the hash
 *   ARGV[1]  channel          ARGV[2]  publisher (instance id)
 *   ARGV[3]  balancer name    ARGV[4]  kind ("a" admin, "r" worker health)
 *   ARGV[5]  "1": return the whole hash afterwards (a resync); else the records that lost
 *   ARGV[6…] field, record, field, record…
 *
 * A stored value that is not a record (damaged by hand) loses to any record, so it heals.
 */
export const MERGE_LUA = `
local function parse(r)
  local v, by = string.match(r, '^(%d+)|([%w%._%-]+)|')
  if v == nil then return nil, nil end
  return tonumber(v), by
end
local function greater(a, b)
  local la, lb = #a, #b
  for i = 1, math.min(la, lb) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return la > lb
end
local written, lost = {}, {}
for i = 6, #ARGV, 2 do
  local f, rec = ARGV[i], ARGV[i + 1]
  local nv, nb = parse(rec)
  if nv ~= nil then
    local cur = redis.call('HGET', KEYS[1], f)
    local win = true
    if cur then
      local cv, cb = parse(cur)
      if cv ~= nil and (cv > nv or (cv == nv and not greater(nb, cb))) then win = false end
    end
    if win then
      redis.call('HSET', KEYS[1], f, rec)
      written[#written + 1] = f
      written[#written + 1] = rec
    elseif cur ~= rec then
      lost[#lost + 1] = f
      lost[#lost + 1] = cur
    end
  end
end
if #written > 0 then
  redis.call('PUBLISH', ARGV[1], cjson.encode({i = ARGV[2], b = ARGV[3], k = ARGV[4], r = written}))
end
if ARGV[5] == '1' then return redis.call('HGETALL', KEYS[1]) end
return lost
`;
