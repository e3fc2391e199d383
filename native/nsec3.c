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
