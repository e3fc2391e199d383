/* The record loop of fluxdns's AXFR writer (src/transfer/axfr-wire.ts, AxfrWriter.body) in C: a million-record
 * transfer spent ~70 ms of the serving thread in the JavaScript loop, most of it copying a few bytes at a
 * time (owner labels, RDATA) with a bounds check per byte; here each copy is one memcpy. Same bytes as the
 * JavaScript loop, which stays the fallback (src/transfer/axfr-native.ts; axfr-wire.test.ts compares the
 * two). Every offset taken from the compiled zone's arrays is checked against their lengths, so a bad
 * array throws instead of reading or writing outside them. N-API only, no state kept between calls. */
#include <node_api.h>
#include <stdint.h>
#include <string.h>

/* state (Int32Array), read and written back: */
enum { S_POS, S_COUNT, S_APEX_AT, S_N, S_S, S_R, S_FULL, /* read only: */ S_BUDGET, S_APEX_LEN, S_SOA_SET, S_NODE_COUNT, S_WORDS };

typedef struct {
  void *data;
  size_t length;
} view;

/* Argument i as a typed array of `type` (its data already moved by its byte offset). */
static int typed(napi_env env, napi_value v, napi_typedarray_type type, view *out) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, &out->length, &out->data, &ab, &off) != napi_ok || t != type) return 0;
  return 1;
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* axfrBody(m, state, names, rdata, nodeName, nodeFirstSet, nodeSets, setType, setTtl, setFirstRr, setRrs, rrOff, rrLen) */
static napi_value axfr_body(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13) return fail(env, "axfrBody: 13 arguments");
  view vm, vst, vnames, vrdata, vnodeName, vnodeFirstSet, vnodeSets, vsetType, vsetTtl, vsetFirstRr, vsetRrs, vrrOff, vrrLen;
  if (!typed(env, argv[0], napi_uint8_array, &vm) || !typed(env, argv[1], napi_int32_array, &vst) ||
      !typed(env, argv[2], napi_uint8_array, &vnames) || !typed(env, argv[3], napi_uint8_array, &vrdata) ||
      !typed(env, argv[4], napi_int32_array, &vnodeName) || !typed(env, argv[5], napi_int32_array, &vnodeFirstSet) ||
      !typed(env, argv[6], napi_uint16_array, &vnodeSets) || !typed(env, argv[7], napi_uint16_array, &vsetType) ||
      !typed(env, argv[8], napi_uint32_array, &vsetTtl) || !typed(env, argv[9], napi_int32_array, &vsetFirstRr) ||
      !typed(env, argv[10], napi_int32_array, &vsetRrs) || !typed(env, argv[11], napi_int32_array, &vrrOff) ||
      !typed(env, argv[12], napi_uint16_array, &vrrLen))
    return fail(env, "axfrBody: argument of the wrong type");
  if (vst.length < S_WORDS) return fail(env, "axfrBody: short state");
  int32_t *st = vst.data;
  uint8_t *m = vm.data;
  const uint8_t *names = vnames.data, *rdata = vrdata.data;
  const int32_t *nodeName = vnodeName.data, *nodeFirstSet = vnodeFirstSet.data, *setFirstRr = vsetFirstRr.data,
                *setRrs = vsetRrs.data, *rrOff = vrrOff.data;
  const uint16_t *nodeSets = vnodeSets.data, *setType = vsetType.data, *rrLen = vrrLen.data;
  const uint32_t *setTtl = vsetTtl.data;
  const size_t setCount = vsetType.length < vsetTtl.length ? vsetType.length : vsetTtl.length;
  const size_t setRows = setCount < vsetFirstRr.length ? (setCount < vsetRrs.length ? setCount : vsetRrs.length)
                                                       : (vsetFirstRr.length < vsetRrs.length ? vsetFirstRr.length : vsetRrs.length);
  const size_t rrRows = vrrOff.length < vrrLen.length ? vrrOff.length : vrrLen.length;

  int64_t pos = st[S_POS], count = st[S_COUNT], apexAt = st[S_APEX_AT];
  int64_t n = st[S_N], s = st[S_S], r = st[S_R];
  const int64_t budget = st[S_BUDGET], apexLen = st[S_APEX_LEN], soaSet = st[S_SOA_SET], nodeCount = st[S_NODE_COUNT];
  if (budget < 0 || (size_t)budget > vm.length || pos < 0 || pos > budget || apexLen < 1 || nodeCount < 0 ||
      (size_t)nodeCount > vnodeName.length || (size_t)nodeCount > vnodeFirstSet.length || (size_t)nodeCount > vnodeSets.length || n < 0)
    return fail(env, "axfrBody: state out of range");
  int full = 0;
  for (; n < nodeCount; n++, s = -1) {
    const int64_t firstSet = nodeFirstSet[n];
    const int64_t setEnd = firstSet + nodeSets[n];
    if (firstSet < 0 || (size_t)setEnd > setRows) return fail(env, "axfrBody: node's sets out of range");
    if (s < 0) s = firstSet;
    /* Where this node's owner was written in this message (a pointer target), -1 not yet. */
    int64_t ownerAt = -1;
    for (; s < setEnd; s++, r = -1) {
      if (s == soaSet) continue;
      const uint16_t type = setType[s];
      const uint32_t ttl = setTtl[s];
      const int64_t rFirst = setFirstRr[s], rEnd = rFirst + setRrs[s];
      if (rFirst < 0 || (size_t)rEnd > rrRows) return fail(env, "axfrBody: set's records out of range");
      if (r < 0) r = rFirst;
      for (; r < rEnd; r++) {
        const int64_t len = rrLen[r];
        const int64_t ro = rrOff[r];
        if (ro < 0 || (size_t)(ro + len) > vrdata.length) return fail(env, "axfrBody: RDATA out of range");
        const int64_t start = pos;
        if (ownerAt >= 0) {
          if (pos + 12 + len > budget) {
            full = 1;
            goto out;
          }
          m[pos] = 0xc0 | (uint8_t)(ownerAt >> 8);
          m[pos + 1] = (uint8_t)ownerAt;
          pos += 2;
        } else {
          const int64_t off = nodeName[n];
          if (off < 0 || (size_t)off >= vnames.length) return fail(env, "axfrBody: owner out of range");
          int64_t p = off;
          while (names[p] != 0) {
            p += names[p] + 1;
            if ((size_t)p >= vnames.length) return fail(env, "axfrBody: owner runs past the names");
          }
          const int64_t whole = p + 1 - off;
          const int64_t own = whole - apexLen;
          if (own < 0) return fail(env, "axfrBody: owner above the apex");
          const int64_t nameBytes = apexAt >= 0 ? own + 2 : whole;
          if (pos + nameBytes + 10 + len > budget) {
            full = 1;
            goto out;
          }
          memcpy(m + pos, names + off, (size_t)(apexAt >= 0 ? own : whole));
          if (apexAt >= 0) {
            m[pos + own] = 0xc0 | (uint8_t)(apexAt >> 8);
            m[pos + own + 1] = (uint8_t)apexAt;
          } else if (pos + own < 0x4000)
            apexAt = pos + own;
          pos += nameBytes;
          /* Pointers reach the first 16 KiB only; a message is up to 64 KiB. */
          if (start < 0x4000) ownerAt = start;
        }
        /* An RRSIG takes the TTL of the RRset it covers at this owner (RFC 4034 §3; recordTtl in compiled.ts). */
        uint32_t rttl = ttl;
        if (type == 46 && len >= 2) {
          const uint16_t covered = (uint16_t)((rdata[ro] << 8) | rdata[ro + 1]);
          for (int64_t x = firstSet; x < setEnd; x++)
            if (setType[x] == covered) {
              rttl = setTtl[x];
              break;
            }
        }
        /* TYPE, CLASS IN, TTL, RDLENGTH, RDATA as stored. */
        uint8_t *q = m + pos;
        q[0] = (uint8_t)(type >> 8);
        q[1] = (uint8_t)type;
        q[2] = 0;
        q[3] = 1;
        q[4] = (uint8_t)(rttl >> 24);
        q[5] = (uint8_t)(rttl >> 16);
        q[6] = (uint8_t)(rttl >> 8);
        q[7] = (uint8_t)rttl;
        q[8] = (uint8_t)(len >> 8);
        q[9] = (uint8_t)len;
        memcpy(q + 10, rdata + ro, (size_t)len);
        pos += 10 + len;
        count++;
      }
    }
  }
out:
  st[S_POS] = (int32_t)pos;
  st[S_COUNT] = (int32_t)count;
  st[S_APEX_AT] = (int32_t)apexAt;
  st[S_N] = (int32_t)n;
  st[S_S] = (int32_t)s;
  st[S_R] = (int32_t)r;
  st[S_FULL] = full;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"axfrBody", NULL, axfr_body, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
