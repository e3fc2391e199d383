/* NSEC3 hashing (RFC 5155 §5) and the chain's cover search, for the encloser replay's signed NSEC3
 * denials (the template hole, native/udp_batch.c). */
#ifndef FLUXDNS_NSEC3_H
#define FLUXDNS_NSEC3_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC3_DIGEST 20      /* SHA-1, the one algorithm RFC 5155 §11 defines */
#define NSEC3_LABEL 32       /* its base32hex text: an NSEC3 owner's first label */

/* SHA-1 (FIPS 180-4) of a[0, alen) followed by b[0, blen); alen + blen <= 576. out may alias a. */
void nsec3_sha1(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[NSEC3_DIGEST]);

/* IH(salt, name, iterations) of RFC 5155 §5; name in canonical (lower-cased, uncompressed) wire form. */
void nsec3_hash(const uint8_t *name, size_t len, const uint8_t *salt, size_t salt_len, unsigned iterations, uint8_t out[NSEC3_DIGEST]);

/* The place covering digest h in a chain of `places` sorted digests (20 bytes each): the last one
 * strictly before h, wrapping to the last place (src/dnssec/serve/index.ts coverIndex); -1 when empty. */
int nsec3_cover(const uint8_t *digests, int places, const uint8_t h[NSEC3_DIGEST]);

/* Lower-case base32hex (RFC 4648 §7) of a digest: 32 characters, an NSEC3 owner's hashed label. */
void nsec3_b32hex(const uint8_t d[NSEC3_DIGEST], uint8_t out[NSEC3_LABEL]);

/*
 * The NSEC3 hole of an encloser template (udp_batch.c tmpl_learn/tmpl_find/tmpl_write): a signed NSEC3 reply
 * for a name below its closest encloser E depends on the name only through the NSEC3 (and its RRSIGs)
 * covering the next closer name. The template keeps the reply without that block; a replay hashes its own
 * next closer name, and copies that place's block from the zone's arena (src/dnssec/serve/nsec3-replay.ts:
 * per place the NSEC3 and RRSIGs as the encoder writes them, the apex and owner pointers left as C0 00).
 */
typedef struct {
  int on;
  uint8_t salt[255];
  int salt_len;
  uint32_t iterations;
  const uint8_t *digests; /* 20 bytes per place, sorted */
  int places;
  const uint8_t *blocks;
  size_t blocks_len;
  const int32_t *block_at; /* places + 1 */
  napi_ref refs[3];
} n3_zone;

/* The most hashed-label guards a template keeps (names of the reply that are a 32-byte label right below the apex). */
#define N3_MAX_GUARDS 8
/* A template's extension bytes (after enc's pointer offsets): hole (2), learnt block size (2), guards (1), labels. */
#define N3_EXT_MAX (5 + N3_MAX_GUARDS * NSEC3_LABEL)

/* The `nsec3` property of a registered zone object into *z (z->on 0 when absent); 0 when present but malformed. */
int n3_zone_of(napi_env env, napi_value zone, n3_zone *z);
void n3_release(napi_env env, n3_zone *z);

/*
 * Learning: r (rlen bytes) is a reply whose question name ends at name_end with the apex (apex_len bytes)
 * last, nc[0, nc_len) its lower-cased next closer name. ptrs/np and names/nn: the offsets of the pointers
 * to move and of the names read (tmpl_scan). Writes the reply without the covering NSEC3's block into out
 * (NSCOUNT lowered; pointers after it moved), rewrites ptrs/names for it, and the extension into ext.
 * Returns the new length, or -1 when the reply is not of that shape (no such block, a block other than the
 * arena's, a pointer into it, a name below a hashed label, too many guards).
 */
int n3_cut(const n3_zone *z, const uint8_t *nc, int nc_len, int name_end, int apex_len, const uint8_t *r, int rlen, uint16_t *ptrs, int *np,
           uint16_t *names, int *nn, uint8_t *out, uint8_t *ext, int *ext_len);

/*
 * Replay: the place whose block fills the hole for the name (lower-cased wire, name_len bytes, its next
 * closer at n_off, the apex apex_len bytes last), or -1 when it may not (the place's label is a guard of the
 * template — a proof record the reply holds already, or a name it would compress against — or the name's
 * own label right below the apex). *grow: how much longer than the learnt reply the reply gets.
 */
int n3_place(const n3_zone *z, const uint8_t *name, int name_len, int n_off, int apex_len, const uint8_t *ext, int *grow);

/*
 * Fills the hole of a reply tmpl_write made (out, len bytes, its question `delta` bytes longer than the
 * learnt one, ending at qend) with place's block: the pointers of the template after the hole (ptrs, np;
 * template offsets) moved, the block's own pointers set, NSCOUNT raised. Returns the new length.
 */
int n3_fill(const n3_zone *z, int place, const uint8_t *ext, const uint8_t *ptrs, int np, int delta, int qend, int apex_len, uint8_t *out, int len);

/* JS: nsec3Hash(wire: Uint8Array, salt: Uint8Array, iterations) -> Uint8Array(20), and
 * nsec3Cover(digests: Uint8Array, hash: Uint8Array) -> place: the C code above, for tests. */
napi_value nsec3_js_hash(napi_env env, napi_callback_info info);
napi_value nsec3_js_cover(napi_env env, napi_callback_info info);

#endif
