/* NSEC3 hashing (RFC 5155 §5) and the chain's cover search in C: the encloser replay answers a signed
 * NSEC3 NXDOMAIN or wildcard reply by itself, and the one record that depends on the name asked, the
 * NSEC3 covering the next closer name (RFC 5155 §7.2.1), is found by hashing that name here. A small
 * portable SHA-1 rather than OpenSSL's: the input is one or two 64-byte blocks, where an EVP call's set-up
 * costs as much as the hash, and the UDP addon links no crypto library. Checked against RFC 5155 Appendix A
 * and src/dnssec/nsec3-hash.ts in src/transport/nsec3-native.test.ts. */
#include "nsec3.h"

#include <string.h>

static inline uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

/* FIPS 180-4 §6.1.2 on one 64-byte block. */
static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (int t = 0; t < 16; t++) w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
  for (int t = 16; t < 80; t++) w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], tmp;
  int t = 0;
  for (; t < 20; t++) tmp = rol(a, 5) + ((b & c) | (~b & d)) + e + 0x5a827999u + w[t], e = d, d = c, c = rol(b, 30), b = a, a = tmp;
  for (; t < 40; t++) tmp = rol(a, 5) + (b ^ c ^ d) + e + 0x6ed9eba1u + w[t], e = d, d = c, c = rol(b, 30), b = a, a = tmp;
  for (; t < 60; t++) tmp = rol(a, 5) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdcu + w[t], e = d, d = c, c = rol(b, 30), b = a, a = tmp;
  for (; t < 80; t++) tmp = rol(a, 5) + (b ^ c ^ d) + e + 0xca62c1d6u + w[t], e = d, d = c, c = rol(b, 30), b = a, a = tmp;
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void nsec3_sha1(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[NSEC3_DIGEST]) {
  /* The padded message laid out first (FIPS 180-4 §5.1.1): at most a 255-byte name and a 255-byte salt. */
  uint8_t m[640];
  size_t total = alen + blen;
  size_t blocks = ((total + 8) >> 6) + 1;
  memmove(m, a, alen);
  memcpy(m + alen, b, blen);
  m[total] = 0x80;
  memset(m + total + 1, 0, blocks * 64 - total - 1);
  uint64_t bits = (uint64_t)total * 8;
  for (int k = 0; k < 8; k++) m[blocks * 64 - 1 - k] = (uint8_t)(bits >> (8 * k));
  uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
  for (size_t i = 0; i < blocks; i++) sha1_block(h, m + 64 * i);
  for (int k = 0; k < 5; k++) {
    out[4 * k] = (uint8_t)(h[k] >> 24);
    out[4 * k + 1] = (uint8_t)(h[k] >> 16);
    out[4 * k + 2] = (uint8_t)(h[k] >> 8);
    out[4 * k + 3] = (uint8_t)h[k];
  }
}

void nsec3_hash(const uint8_t *name, size_t len, const uint8_t *salt, size_t salt_len, unsigned iterations, uint8_t out[NSEC3_DIGEST]) {
  nsec3_sha1(name, len, salt, salt_len, out);
  for (unsigned k = 0; k < iterations; k++) nsec3_sha1(out, NSEC3_DIGEST, salt, salt_len, out);
}

int nsec3_cover(const uint8_t *digests, int places, const uint8_t h[NSEC3_DIGEST]) {
  int lo = 0, hi = places - 1, found = -1;
  while (lo <= hi) {
    int mid = (lo + hi) >> 1;
    if (memcmp(digests + (size_t)mid * NSEC3_DIGEST, h, NSEC3_DIGEST) < 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 ? found : places - 1;
}

void nsec3_b32hex(const uint8_t d[NSEC3_DIGEST], uint8_t out[NSEC3_LABEL]) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
  /* 160 bits: four groups of 5 bytes, 8 characters each. */
  for (int g = 0; g < 4; g++) {
    uint64_t v = 0;
    for (int k = 0; k < 5; k++) v = v << 8 | d[5 * g + k];
    for (int k = 0; k < 8; k++) out[8 * g + k] = (uint8_t)digits[(v >> (35 - 5 * k)) & 31];
  }
}

/* ---- The NSEC3 hole of an encloser template (nsec3.h) ---- */

static inline uint8_t low8(uint8_t c) { return c >= 'A' && c <= 'Z' ? c | 0x20 : c; }

static inline int rd16(const uint8_t *p) { return p[0] << 8 | p[1]; }

static inline void wr16(uint8_t *p, int v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Sets a block's pointers for where it lands: its owner's apex at apex_at, each RRSIG's owner the block's
 * start `at`. The block was checked at registration (n3_zone_of). Returns its record count. */
static int n3_relocate(uint8_t *b, int len, int apex_at, int at) {
  wr16(b + 1 + NSEC3_LABEL, 0xc000 | apex_at);
  int o = 1 + NSEC3_LABEL + 2 + 10 + rd16(b + 1 + NSEC3_LABEL + 2 + 8), k = 1;
  while (o < len) {
    wr16(b + o, 0xc000 | at);
    o += 12 + rd16(b + o + 10);
    k++;
  }
  return k;
}

/* Whether b[0, len) has a block's shape: hashed label, apex pointer slot, an NSEC3, RRSIGs with owner slots. */
static int n3_block_ok(const uint8_t *b, int len) {
  int o = 1 + NSEC3_LABEL;
  if (len < o + 12 || b[0] != NSEC3_LABEL || rd16(b + o) != 0xc000 || rd16(b + o + 2) != 50) return 0;
  o += 2 + 10 + rd16(b + o + 2 + 8);
  while (o < len) {
    if (o + 12 > len || rd16(b + o) != 0xc000 || rd16(b + o + 2) != 46) return 0;
    o += 12 + rd16(b + o + 10);
  }
  return o == len;
}

/* The offset after the name at r[p] (rlen bytes), or -1. */
static int n3_skip(const uint8_t *r, int rlen, int p) {
  while (p < rlen) {
    uint8_t c = r[p];
    if (c == 0) return p + 1;
    if ((c & 0xc0) == 0xc0) return p + 2 <= rlen ? p + 2 : -1;
    if (c > 63) return -1;
    p += c + 1;
  }
  return -1;
}

/* The lower-cased name at r[p], pointers followed (each points back), into out; its length, or -1. */
static int n3_expand(const uint8_t *r, int rlen, int p, uint8_t *out) {
  int n = 0;
  while (p < rlen) {
    uint8_t c = r[p];
    if ((c & 0xc0) == 0xc0) {
      if (p + 1 >= rlen) return -1;
      int to = (c & 0x3f) << 8 | r[p + 1];
      if (to >= p) return -1;
      p = to;
      continue;
    }
    if (c > 63 || n + c + 1 > 255 || p + c >= rlen) return -1;
    out[n] = c;
    for (int i = 1; i <= c; i++) out[n + i] = low8(r[p + i]);
    n += c + 1;
    if (c == 0) return n;
    p += c + 1;
  }
  return -1;
}

/* Where the label right before the last `suffix` bytes of the wire name w (n bytes) starts; -1 when none ends there. */
static int n3_label_before(const uint8_t *w, int n, int suffix) {
  int prev = -1, at = 0;
  while (at < n - suffix) {
    prev = at;
    at += w[at] + 1;
  }
  return at == n - suffix ? prev : -1;
}

#define N3_MAX_RECORDS 512

int n3_cut(const n3_zone *z, const uint8_t *nc, int nc_len, int name_end, int apex_len, const uint8_t *r, int rlen, uint16_t *ptrs, int *np,
           uint16_t *names, int *nn, uint8_t *out, uint8_t *ext, int *ext_len) {
  int apex_at = name_end - apex_len;
  if (!z->on || apex_at < 12 || rlen < name_end + 4) return -1;
  uint8_t h[NSEC3_DIGEST], label[NSEC3_LABEL];
  nsec3_hash(nc, (size_t)nc_len, z->salt, (size_t)z->salt_len, z->iterations, h);
  int place = nsec3_cover(z->digests, z->places, h);
  nsec3_b32hex(z->digests + (size_t)place * NSEC3_DIGEST, label);
  /* The proof JS makes for a name below E is the hole's shape only when E has an NSEC3 of its own (an empty
   * non-terminal above opt-out delegations alone has none: its proof names another encloser, the same next
   * closer for every name, src/dnssec/serve/proofs.ts) and the covering NSEC3 is neither E's nor one for *.E
   * (each NSEC3 goes out once: it would stand for two). */
  const uint8_t *enc = nc + nc[0] + 1;
  int enc_len = nc_len - nc[0] - 1;
  uint8_t wild[257];
  uint8_t he[NSEC3_DIGEST], hw[NSEC3_DIGEST];
  nsec3_hash(enc, (size_t)enc_len, z->salt, (size_t)z->salt_len, z->iterations, he);
  /* An exact match is right after the cover (the last place strictly before), wrapping. */
  int m = (nsec3_cover(z->digests, z->places, he) + 1) % z->places;
  if (memcmp(z->digests + (size_t)m * NSEC3_DIGEST, he, NSEC3_DIGEST) != 0 || m == place) return -1;
  if (enc_len > 253) return -1;
  wild[0] = 1;
  wild[1] = '*';
  memcpy(wild + 2, enc, (size_t)enc_len);
  nsec3_hash(wild, (size_t)enc_len + 2, z->salt, (size_t)z->salt_len, z->iterations, hw);
  int w = nsec3_cover(z->digests, z->places, hw);
  int wm = (w + 1) % z->places;
  if (w == place || (wm == place && memcmp(z->digests + (size_t)wm * NSEC3_DIGEST, hw, NSEC3_DIGEST) == 0)) return -1;
  /* The authority section's records: the block is an NSEC3 owned by the label and the apex, and the RRSIGs
   * right after it owned by a pointer to it. */
  int an = rd16(r + 6), ns = rd16(r + 8), ar = rd16(r + 10);
  if (an + ns + ar > N3_MAX_RECORDS) return -1;
  int p = name_end + 4, bs = -1, be = -1, k = 0;
  for (int i = 0; i < an + ns + ar; i++) {
    int o = n3_skip(r, rlen, p);
    if (o < 0 || o + 10 > rlen) return -1;
    int type = rd16(r + o), end = o + 10 + rd16(r + o + 8);
    if (end > rlen) return -1;
    int hashed = type == 50 && r[p] == NSEC3_LABEL && o == p + 1 + NSEC3_LABEL + 2 && rd16(r + p + 1 + NSEC3_LABEL) == (0xc000 | apex_at);
    if (hashed && i >= an && i < an + ns) {
      int same = 1;
      for (int c = 0; c < NSEC3_LABEL && same; c++) same = low8(r[p + 1 + c]) == label[c];
      if (same) {
        if (bs >= 0) return -1; /* twice: not the reply JS makes */
        bs = p;
        be = end;
        k = 1;
      }
    } else if (bs >= 0 && be == p && type == 46 && o == p + 2 && rd16(r + p) == (0xc000 | bs)) {
      be = end;
      k++;
    }
    p = end;
  }
  if (bs < 0 || p != rlen) return -1;
  /* The very bytes the arena holds for the place (the engine's, relocated as n3_fill will). */
  int blen = be - bs;
  if (blen != z->block_at[place + 1] - z->block_at[place]) return -1;
  uint8_t blk[4096];
  memcpy(blk, z->blocks + z->block_at[place], (size_t)blen);
  n3_relocate(blk, blen, apex_at, bs);
  if (memcmp(blk, r + bs, (size_t)blen) != 0) return -1;
  /* Out: the reply without the block; pointers into it other than its own make no template. */
  memcpy(out, r, (size_t)bs);
  memcpy(out + bs, r + be, (size_t)(rlen - be));
  wr16(out + 8, ns - k);
  int kept = 0;
  for (int i = 0; i < *np; i++) {
    int at = ptrs[i];
    if (at >= bs && at < be) continue;
    int to = (r[at] & 0x3f) << 8 | r[at + 1];
    if (to >= bs && to < be) return -1;
    if (at >= be) {
      at -= blen;
      if (to >= be) wr16(out + at, 0xc000 | (to - blen));
    }
    ptrs[kept++] = (uint16_t)at;
  }
  *np = kept;
  int olen = rlen - blen;
  /* Guards: every name left that is a 32-byte label right below the apex (another NSEC3 of the proof, or a
   * name the new block's owner would be compressed against); none may lie below such a label. */
  const uint8_t *apex = out + apex_at;
  int ng = 0;
  uint8_t *g = ext + 5;
  kept = 0;
  for (int i = 0; i < *nn; i++) {
    int at = names[i];
    if (at >= bs && at < be) continue;
    if (at >= be) at -= blen;
    names[kept++] = (uint16_t)at;
    uint8_t full[256];
    int n = n3_expand(out, olen, at, full);
    if (n < 0) return -1;
    if (n <= apex_len) continue;
    int same = 1;
    for (int c = 0; c < apex_len && same; c++) same = full[n - apex_len + c] == low8(apex[c]);
    if (!same) continue;
    int prev = n3_label_before(full, n, apex_len);
    if (prev < 0 || full[prev] != NSEC3_LABEL) continue;
    if (prev > 0) return -1;
    int dup = 0;
    for (int x = 0; x < ng && !dup; x++) dup = memcmp(g + x * NSEC3_LABEL, full + 1, NSEC3_LABEL) == 0;
    if (dup) continue;
    if (ng == N3_MAX_GUARDS) return -1;
    memcpy(g + ng * NSEC3_LABEL, full + 1, NSEC3_LABEL);
    ng++;
  }
  *nn = kept;
  wr16(ext, bs);
  wr16(ext + 2, blen);
  ext[4] = (uint8_t)ng;
  *ext_len = 5 + ng * NSEC3_LABEL;
  return olen;
}

int n3_place(const n3_zone *z, const uint8_t *name, int name_len, int n_off, int apex_len, const uint8_t *ext, int *grow) {
  if (!z->on) return -1;
  uint8_t h[NSEC3_DIGEST], label[NSEC3_LABEL];
  nsec3_hash(name + n_off, (size_t)(name_len - n_off), z->salt, (size_t)z->salt_len, z->iterations, h);
  int place = nsec3_cover(z->digests, z->places, h);
  nsec3_b32hex(z->digests + (size_t)place * NSEC3_DIGEST, label);
  for (int x = 0; x < ext[4]; x++)
    if (memcmp(ext + 5 + x * NSEC3_LABEL, label, NSEC3_LABEL) == 0) return -1;
  /* The question's own label right below the apex: the block's owner would be compressed against it. */
  int prev = n3_label_before(name, name_len, apex_len);
  if (prev >= 0 && name[prev] == NSEC3_LABEL && memcmp(name + prev + 1, label, NSEC3_LABEL) == 0) return -1;
  *grow = z->block_at[place + 1] - z->block_at[place] - rd16(ext + 2);
  return place;
}

int n3_fill(const n3_zone *z, int place, const uint8_t *ext, const uint8_t *ptrs, int np, int delta, int qend, int apex_len, uint8_t *out, int len) {
  int hole = rd16(ext), at = hole + delta;
  int blen = z->block_at[place + 1] - z->block_at[place];
  memmove(out + at + blen, out + at, (size_t)(len - at));
  memcpy(out + at, z->blocks + z->block_at[place], (size_t)blen);
  int k = n3_relocate(out + at, blen, qend - 4 - apex_len, at);
  wr16(out + 8, rd16(out + 8) + k);
  /* tmpl_write moved the template's pointers with the question; those after the hole move with the block. */
  for (int i = 0; i < np; i++) {
    uint16_t off;
    memcpy(&off, ptrs + 2 * i, 2);
    if (off < hole) continue;
    uint8_t *p = out + off + delta + blen;
    int to = (p[0] & 0x3f) << 8 | p[1];
    if (to >= at) wr16(p, 0xc000 | (to + blen));
  }
  return len + blen;
}

/* A typed array property of obj, referenced (the arrays stay while the zone is registered); NULL when missing or of another type. */
static void *n3_array(napi_env env, napi_value obj, const char *name, napi_typedarray_type want, size_t *length, napi_ref *ref) {
  napi_value v, ab;
  napi_typedarray_type t;
  size_t off;
  void *data = NULL;
  bool is = false;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &t, length, &data, &ab, &off) != napi_ok || t != want)
    return NULL;
  if (ref != NULL && napi_create_reference(env, v, 1, ref) != napi_ok) return NULL;
  return data;
}

void n3_release(napi_env env, n3_zone *z) {
  for (int i = 0; i < 3; i++)
    if (z->refs[i]) napi_delete_reference(env, z->refs[i]);
  memset(z, 0, sizeof *z);
}

int n3_zone_of(napi_env env, napi_value zone, n3_zone *z) {
  memset(z, 0, sizeof *z);
  napi_value v, it;
  napi_valuetype t = napi_undefined;
  if (napi_get_named_property(env, zone, "nsec3", &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) return 1;
  if (t != napi_object) return 0;
  size_t salt_len, nd, nb, na;
  const uint8_t *salt = n3_array(env, v, "salt", napi_uint8_array, &salt_len, NULL);
  uint32_t iterations;
  if (salt == NULL || salt_len > 255 || napi_get_named_property(env, v, "iterations", &it) != napi_ok || napi_get_value_uint32(env, it, &iterations) != napi_ok ||
      iterations > 2500)
    return 0;
  memcpy(z->salt, salt, salt_len);
  z->salt_len = (int)salt_len;
  z->iterations = iterations;
  z->digests = n3_array(env, v, "digests", napi_uint8_array, &nd, &z->refs[0]);
  z->blocks = n3_array(env, v, "blocks", napi_uint8_array, &nb, &z->refs[1]);
  z->block_at = n3_array(env, v, "blockAt", napi_int32_array, &na, &z->refs[2]);
  if (z->digests == NULL || z->blocks == NULL || z->block_at == NULL || nd == 0 || nd % NSEC3_DIGEST != 0 || na != nd / NSEC3_DIGEST + 1 || nd / NSEC3_DIGEST > 0x7fffffff)
    return 0;
  z->places = (int)(nd / NSEC3_DIGEST);
  z->blocks_len = nb;
  /* Every block well formed and in bounds, so a replay copies and relocates without checks. */
  for (int i = 0; i < z->places; i++) {
    int32_t a = z->block_at[i], b = z->block_at[i + 1];
    if (a < 0 || b < a || (size_t)b > nb || b - a > 2048 || !n3_block_ok(z->blocks + a, b - a)) return 0;
    if (i > 0 && memcmp(z->digests + (size_t)(i - 1) * NSEC3_DIGEST, z->digests + (size_t)i * NSEC3_DIGEST, NSEC3_DIGEST) >= 0) return 0;
  }
  z->on = 1;
  return 1;
}

static int bytes_arg(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: expected a Uint8Array");
    return 0;
  }
  return 1;
}

napi_value nsec3_js_hash(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *name, *salt;
  size_t len, salt_len;
  uint32_t iterations = 0;
  if (argc < 3 || !bytes_arg(env, argv[0], &name, &len) || !bytes_arg(env, argv[1], &salt, &salt_len)) return NULL;
  if (napi_get_value_uint32(env, argv[2], &iterations) != napi_ok || len > 255 || salt_len > 255) {
    napi_throw_range_error(env, NULL, "fluxdns_udp: nsec3Hash(name <= 255 bytes, salt <= 255 bytes, iterations)");
    return NULL;
  }
  napi_value ab, out;
  void *data;
  if (napi_create_arraybuffer(env, NSEC3_DIGEST, &data, &ab) != napi_ok) return NULL;
  nsec3_hash(name, len, salt, salt_len, iterations, data);
  napi_create_typedarray(env, napi_uint8_array, NSEC3_DIGEST, ab, 0, &out);
  return out;
}

napi_value nsec3_js_cover(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *digests, *h;
  size_t len, hlen;
  if (argc < 2 || !bytes_arg(env, argv[0], &digests, &len) || !bytes_arg(env, argv[1], &h, &hlen)) return NULL;
  if (len % NSEC3_DIGEST != 0 || hlen != NSEC3_DIGEST) {
    napi_throw_range_error(env, NULL, "fluxdns_udp: nsec3Cover(digests: 20 bytes each, hash: 20 bytes)");
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, nsec3_cover(digests, (int)(len / NSEC3_DIGEST), h), &out);
  return out;
}
