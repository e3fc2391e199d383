// The Redis store's Lua scripts: each StateStore method that must not race is one script, so it runs
// atomically on the primary however many servers and gateways call it (issue 14: two servers never
// lease one address to two scopes).
//
// Keys (P = state.prefix): P l:ID lease hash (j = the lease's JSON, t/v/g/q = ttlUntil, liveUntil,
// graceUntil, quarantineUntil, r = revoked, sk = scope key, ad = address, svc/tk/pt = service,
// targets and ports for the claim check); P a:ADDRESS zset id → quarantineUntil; P s:SCOPE id;
// P h:ID set of sources; P f:ID hash node → open flows; P L zset of every lease by quarantineUntil;
// P E zset of leases whose grace end is still to report, by graceUntil; P b:KEY token bucket;
// P u:SOURCE unproductive attempts; P B:SOURCE scanner block, P B zset source → until.
// Times are the caller's clock (ARGV), as in the memory store; Redis TTLs only collect garbage
// (a lease's keys outlive its quarantine by GC_MS so that a late sweep still reports it).

/** Fields of a lease as the scripts return them: j, t, v, g, q, r. */
const LEASE_FIELDS = `'j', 't', 'v', 'g', 'q', 'r'`;

const COMMON = `
local P = ARGV[1]
local now = tonumber(ARGV[2])
local GC = 3600000
local function alive(id)
  local q = redis.call('HGET', P .. 'l:' .. id, 'q')
  return q and tonumber(q) > now
end
local function fields(id)
  return redis.call('HMGET', P .. 'l:' .. id, ${LEASE_FIELDS})
end
local function keep(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
local function forget(id)
  local lk = P .. 'l:' .. id
  local h = redis.call('HMGET', lk, 'sk', 'ad')
  if h[1] and redis.call('GET', P .. 's:' .. h[1]) == id then redis.call('DEL', P .. 's:' .. h[1]) end
  if h[2] then redis.call('ZREM', P .. 'a:' .. h[2], id) end
  redis.call('DEL', lk, P .. 'h:' .. id, P .. 'f:' .. id)
  redis.call('ZREM', P .. 'L', id)
  redis.call('ZREM', P .. 'E', id)
end
`;

/**
 * The claim (ARGV[3..15]: id json address scopeKey ttlUntil liveUntil graceUntil quarantineUntil share
 * service targets ports origin) as a Lua function: 1 when claimed, 0 on conflict (nothing written).
 * The grant event is written here around the lease's JSON (origin: the node's name as a JSON string),
 * in the form RedisStore's subscription reads: {"type":"grant","origin":…,"f":[[json, t, v, g, q, null]]}.
 */
const CLAIM_FN = `
local function claim()
  local id = ARGV[3]
  local lk = P .. 'l:' .. id
  if redis.call('EXISTS', lk) == 1 then return 0 end
  local ak = P .. 'a:' .. ARGV[5]
  redis.call('ZREMRANGEBYSCORE', ak, '-inf', now)
  local function ports(s)
    local out = {}
    for proto, a, b in string.gmatch(s, '(%a+),(%d+),(%d+)') do out[#out + 1] = { proto, tonumber(a), tonumber(b) } end
    return out
  end
  local mine = ports(ARGV[14])
  local function overlap(x)
    for _, p in ipairs(x) do
      for _, m in ipairs(mine) do
        if p[1] == m[1] and p[2] <= m[3] and m[2] <= p[3] then return true end
      end
    end
    return false
  end
  for _, other in ipairs(redis.call('ZRANGE', ak, 0, -1)) do
    local h = redis.call('HMGET', P .. 'l:' .. other, 'q', 'r', 'v', 'svc', 'tk', 'pt')
    if h[1] and tonumber(h[1]) > now and overlap(ports(h[6])) then
      local sharable = ARGV[11] == '1' and not h[2] and tonumber(h[3]) > now and h[4] == ARGV[12] and h[5] == ARGV[13]
      if not sharable then return 0 end
    end
  end
  local q = tonumber(ARGV[10])
  redis.call('HSET', lk, 'j', ARGV[4], 't', ARGV[7], 'v', ARGV[8], 'g', ARGV[9], 'q', ARGV[10], 'sk', ARGV[6], 'ad', ARGV[5], 'svc', ARGV[12], 'tk', ARGV[13], 'pt', ARGV[14])
  redis.call('PEXPIRE', lk, q - now + GC)
  redis.call('ZADD', ak, q, id)
  keep(ak, q - now + GC)
  local ttl = tonumber(ARGV[7]) - now
  if ttl > 0 then redis.call('SET', P .. 's:' .. ARGV[6], id, 'PX', ttl) end
  redis.call('ZADD', P .. 'L', q, id)
  redis.call('ZADD', P .. 'E', ARGV[9], id)
  redis.call('PUBLISH', P .. 'events', '{"type":"grant","origin":' .. ARGV[15] .. ',"f":[[' .. cjson.encode(ARGV[4]) .. ',' .. ARGV[7] .. ',' .. ARGV[8] .. ',' .. ARGV[9] .. ',' .. ARGV[10] .. ',null]]}')
  return 1
end
`;

/**
 * ARGV: P now id json address scopeKey ttlUntil liveUntil graceUntil quarantineUntil share service
 * targets ports origin. Returns 1 when claimed, 0 on conflict (nothing written).
 */
export const CLAIM = `${COMMON}${CLAIM_FN}
return claim()
`;

/**
 * One round trip per grant (issue 14: the grant-latency tail): ARGV as CLAIM, then minRemainingMs.
 * When scopeKey's lease is unrevoked with at least minRemainingMs of its TTL left, returns
 * {1, its fields} and writes nothing; otherwise tries the claim and returns {0, 1 | 0}.
 */
export const FIND_OR_CLAIM = `${COMMON}${CLAIM_FN}
local sid = redis.call('GET', P .. 's:' .. ARGV[6])
if sid then
  local h = fields(sid)
  if h[1] and not h[6] and tonumber(h[2]) - now >= tonumber(ARGV[16]) then return { 1, h } end
end
return { 0, claim() }
`;

/** ARGV: P now scopeKey. The lease fields, or nil when none is in its TTL and unrevoked. */
export const FIND = `${COMMON}
local id = redis.call('GET', P .. 's:' .. ARGV[3])
if not id then return nil end
local h = fields(id)
if not h[1] or h[6] or tonumber(h[2]) <= now then return nil end
return h
`;

/** ARGV: P now id. The lease fields unless gone. */
export const GET = `${COMMON}
if not alive(ARGV[3]) then return nil end
return fields(ARGV[3])
`;

/** ARGV: P now zsetKey (relative to P). Every lease of the zset that is not gone, as field arrays. */
export const RANGE = `${COMMON}
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ARGV[3], '(' .. now, '+inf')) do
  local h = fields(id)
  if h[1] then out[#out + 1] = h end
end
return out
`;

/** ARGV: P now id. */
export const RELEASE = `${COMMON}
forget(ARGV[3])
return 1
`;

/** ARGV: P now id quarantineMs. The revoked lease's fields, or nil (unknown, gone or revoked). */
export const REVOKE = `${COMMON}
local id = ARGV[3]
local lk = P .. 'l:' .. id
local h = redis.call('HMGET', lk, 'q', 'r', 't', 'v', 'g', 'sk', 'ad')
if not h[1] or tonumber(h[1]) <= now or h[2] then return nil end
local q = now + tonumber(ARGV[4])
redis.call('HSET', lk, 'r', '1', 't', math.min(now, tonumber(h[3])), 'v', math.min(now, tonumber(h[4])), 'g', math.min(now, tonumber(h[5])), 'q', q)
redis.call('PEXPIRE', lk, q - now + GC)
redis.call('ZADD', P .. 'a:' .. h[7], q, id)
keep(P .. 'a:' .. h[7], q - now + GC)
redis.call('ZADD', P .. 'L', q, id)
-- The revoker tells the data planes itself; sweep must not report it again.
redis.call('ZREM', P .. 'E', id)
if redis.call('GET', P .. 's:' .. h[6]) == id then redis.call('DEL', P .. 's:' .. h[6]) end
return fields(id)
`;

/** ARGV: P now id source maxHosts('' = none) node. 'added' (published as a `source` event), 'known' or 'full'. */
export const ADD_SOURCE = `${COMMON}
local id = ARGV[3]
local q = redis.call('HGET', P .. 'l:' .. id, 'q')
if not q or tonumber(q) <= now then return 'full' end
local hk = P .. 'h:' .. id
if redis.call('SISMEMBER', hk, ARGV[4]) == 1 then return 'known' end
if ARGV[5] ~= '' and redis.call('SCARD', hk) >= tonumber(ARGV[5]) then return 'full' end
redis.call('SADD', hk, ARGV[4])
keep(hk, tonumber(q) - now + GC)
redis.call('PUBLISH', P .. 'events', cjson.encode({ type = 'source', origin = ARGV[6], id = id, ad = redis.call('HGET', P .. 'l:' .. id, 'ad'), src = ARGV[4] }))
return 'added'
`;

/** ARGV: P now id source. 1 when the source is recorded for a lease that is not gone. */
export const HAS_SOURCE = `${COMMON}
if not alive(ARGV[3]) then return 0 end
return redis.call('SISMEMBER', P .. 'h:' .. ARGV[3], ARGV[4])
`;

/** ARGV: P now id. The sources of a lease that is not gone. */
export const SOURCES = `${COMMON}
if not alive(ARGV[3]) then return {} end
return redis.call('SMEMBERS', P .. 'h:' .. ARGV[3])
`;

/** ARGV: P now id max('' = none) node. 1 when counted. */
export const OPEN_FLOW = `${COMMON}
local id = ARGV[3]
local q = redis.call('HGET', P .. 'l:' .. id, 'q')
if not q or tonumber(q) <= now then return 0 end
local fk = P .. 'f:' .. id
if ARGV[4] ~= '' then
  local n = 0
  for _, v in ipairs(redis.call('HVALS', fk)) do n = n + tonumber(v) end
  if n >= tonumber(ARGV[4]) then return 0 end
end
redis.call('HINCRBY', fk, ARGV[5], 1)
keep(fk, tonumber(q) - now + GC)
return 1
`;

/** ARGV: P now id node. */
export const CLOSE_FLOW = `${COMMON}
local fk = P .. 'f:' .. ARGV[3]
local n = tonumber(redis.call('HGET', fk, ARGV[4]) or '0')
if n > 0 then redis.call('HINCRBY', fk, ARGV[4], -1) end
return 1
`;

/** ARGV: P now id. Flat node, count pairs of a lease that is not gone. */
export const FLOWS = `${COMMON}
if not alive(ARGV[3]) then return {} end
return redis.call('HGETALL', P .. 'f:' .. ARGV[3])
`;

/**
 * ARGV: P now node. { expired fields..., purged fields... } as two arrays: leases whose grace ended
 * (each reported once across all nodes: the first sweeper removes it from E) and leases deleted
 * after quarantine. Publishes the expiries so every node's data plane applies them.
 */
export const SWEEP = `${COMMON}
local expired = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'E', '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', P .. 'E', id)
  local h = fields(id)
  if h[1] then expired[#expired + 1] = h end
end
local purged = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'L', '-inf', now, 'LIMIT', 0, 1000)) do
  local h = fields(id)
  if h[1] then purged[#purged + 1] = h end
  forget(id)
end
if #expired > 0 then
  redis.call('PUBLISH', P .. 'events', cjson.encode({ type = 'expire', origin = ARGV[3], f = expired }))
end
return { expired, purged }
`;

/** ARGV: P now key qps burst. 1 when a token was taken. */
export const TAKE_TOKEN = `${COMMON}
local k = P .. 'b:' .. ARGV[3]
local rate, burst = tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', k, 'n', 'at')
local n = burst
if h[1] then n = math.min(burst, tonumber(h[1]) + (now - tonumber(h[2])) / 1000 * rate) end
local ok = 0
if n >= 1 then n = n - 1; ok = 1 end
redis.call('HSET', k, 'n', tostring(n), 'at', ARGV[2])
redis.call('PEXPIRE', k, math.ceil(burst / rate * 1000) + 1000)
return ok
`;

/** ARGV: P now source n windowMs. The count in the current window. */
export const COUNT_UNPRODUCTIVE = `${COMMON}
local k = P .. 'u:' .. ARGV[3]
local h = redis.call('HMGET', k, 'n', 'until')
if not h[1] or now >= tonumber(h[2]) then
  local u = now + tonumber(ARGV[5])
  redis.call('HSET', k, 'n', 0, 'until', u)
  redis.call('PEXPIRE', k, u - now + 1000)
end
return redis.call('HINCRBY', k, 'n', ARGV[4])
`;

/** ARGV: P now source attempts blockMs node. { attempts, since, until }; published as a `scanner` event. */
export const BLOCK_SCANNER = `${COMMON}
local k = P .. 'B:' .. ARGV[3]
local h = redis.call('HMGET', k, 'a', 's', 'u')
local a, s, u = tonumber(ARGV[4]), now, now + tonumber(ARGV[5])
if h[3] and tonumber(h[3]) > now then
  a = math.max(a, tonumber(h[1])); s = tonumber(h[2]); u = math.max(u, tonumber(h[3]))
end
redis.call('HSET', k, 'a', a, 's', s, 'u', u)
redis.call('PEXPIRE', k, u - now)
redis.call('ZADD', P .. 'B', u, ARGV[3])
redis.call('DEL', P .. 'u:' .. ARGV[3])
redis.call('PUBLISH', P .. 'events', cjson.encode({ type = 'scanner', origin = ARGV[6], src = ARGV[3], a = a, s = s, u = u }))
return { tostring(a), tostring(s), tostring(u) }
`;

/** ARGV: P now source. { attempts, since, until } of a block in force, or nil. */
export const SCANNER = `${COMMON}
local h = redis.call('HMGET', P .. 'B:' .. ARGV[3], 'a', 's', 'u')
if not h[3] or tonumber(h[3]) <= now then return nil end
return h
`;

/** ARGV: P now. Flat source, attempts, since, until of every block in force. */
export const SCANNERS = `${COMMON}
redis.call('ZREMRANGEBYSCORE', P .. 'B', '-inf', now)
local out = {}
for _, src in ipairs(redis.call('ZRANGE', P .. 'B', 0, -1)) do
  local h = redis.call('HMGET', P .. 'B:' .. src, 'a', 's', 'u')
  if h[3] and tonumber(h[3]) > now then
    out[#out + 1] = src; out[#out + 1] = h[1]; out[#out + 1] = h[2]; out[#out + 1] = h[3]
  end
end
return out
`;
