/* DNSSEC signing for fluxdns with a prepared OpenSSL context per key (src/dnssec/native-signer.ts).
 * node:crypto's sign() sets up a new EVP_PKEY_CTX (provider fetch, key export) for every signature; here
 * the key is prepared once. Ed25519 (RFC 8080 §4) is signed by libsodium when built with it, else with a
 * copy of a prepared EVP_MD_CTX and EVP_DigestSign. ECDSA P-256 (RFC 6605 §4, r||s) takes the expensive, message-independent half of a signature off
 * the answer's path: the nonce's k^-1 and r = x(k·G) are drawn ahead of need, in batches, on libuv's
 * thread pool (ECDSA_sign_setup on a private copy of the key), and the answer only hashes and computes
 * s = k^-1·(e + r·d) mod n (ECDSA_do_sign_ex). Each nonce is popped under the lock and freed after one
 * use (a reused nonce would give the private key away). When the pool is empty the signature is made
 * inline (ECDSA_do_sign: correct, slower) and counted. Ed25519's nonce depends on the message (RFC 8032
 * §5.1.6), so it has no such split. The OpenSSL symbols are Node's own (its binary exports them), so no
 * second libcrypto is loaded. N-API only. */
#include <node_api.h>
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef FLUXDNS_SODIUM
#include <sodium.h>
#endif

/* Ed25519 by libsodium when the addon was built with it (binding.gyp: libsodium-dev present) and it
 * initialised: crypto_sign_detached is 15 µs a signature here against OpenSSL 3.0's 28 µs (EVP_DigestSign
 * with a copied context), the same deterministic signature (RFC 8032 §5.1.6). Else OpenSSL. */
static int sodium_ready = 0;

/* Nonces kept per ECDSA key: refilled in batches of NONCE_BATCH when fewer than NONCE_LOW are left. A batch
 * is about 1.5 ms of one thread-pool thread (shared with fs and nftables grants: kept short). */
#define NONCE_CAP 1024
#define NONCE_LOW 512
#define NONCE_BATCH 64
/* Nonces the answering thread draws itself when the pool is empty (one used at once, the rest pooled): the
 * batch's shared work is amortised over these, at the cost of one answer in DEMAND_BATCH waiting for them. */
#define DEMAND_BATCH 16

typedef struct {
  BIGNUM *kinv;
  BIGNUM *r;
} nonce;

typedef struct {
  int algorithm;       /* 13 ECDSAP256SHA256, 15 ED25519 */
  EVP_PKEY *pkey;
  EVP_MD_CTX *tmpl;    /* Ed25519: initialised for EVP_DigestSign, copied per signature */
  EVP_MD_CTX *work;
  int sodium;          /* Ed25519: sk holds libsodium's secret key (seed || public key) */
  unsigned char sk[64];
  EVP_MD *sha256;
  /* ECDSA */
  EC_KEY *ec;          /* the answer's signing key (the main thread's) */
  EC_KEY *ec_fill;     /* a private copy for the refill thread: nothing is shared while a batch runs */
  pthread_mutex_t mu;  /* guards ring, head, count, stop, failed */
  pthread_cond_t wake; /* the refill thread waits on it */
  pthread_t thread;
  int locks, started, stop, failed;
  nonce ring[NONCE_CAP];
  size_t head, count;
  double pooled, inline_signs;
  /* The answering thread's own draws (made on first need): its BN_CTX and points. */
  BN_CTX *demand_ctx;
  EC_POINT *demand_pts[DEMAND_BATCH];
} signer;

/* a^-1 mod m (m prime, a not 0 mod m), blinded: b·(a·b)^-1 for a random b, so BN_mod_inverse's timing tells
 * nothing of a — what OpenSSL's own ossl_ec_GFp_simple_field_inv does. 8.8 µs against 16.4 µs for Fermat's
 * constant-time exponentiation (system OpenSSL 3.0, C loop). */
static int inverse_blinded(BIGNUM *r, const BIGNUM *a, const BIGNUM *m, BN_CTX *ctx) {
  int ok = 0;
  BN_CTX_start(ctx);
  BIGNUM *b = BN_CTX_get(ctx), *c = BN_CTX_get(ctx);
  if (!c) goto done;
  do
    if (!BN_priv_rand_range(b, m)) goto done;
  while (BN_is_zero(b));
  ok = BN_mod_mul(c, a, b, m, ctx) && BN_mod_inverse(c, c, m, ctx) != NULL && BN_mod_mul(r, c, b, m, ctx);
done:
  BN_CTX_end(ctx);
  return ok;
}

/* Draws n (<= NONCE_BATCH) ECDSA nonces for group g into out, each k uniform in [1, order-1] (from 40 random
 * bytes: a bias below 2^-64, FIPS 186-4 B.5.1), r = x(k·G) mod order and k^-1 mod order; pts holds n points.
 * Returns how many were drawn (0 when OpenSSL refuses). What ECDSA_sign_setup does for one nonce, with what
 * need not be per nonce shared across the batch: one call to the random generator for all (BN_priv_rand_range
 * locks and runs the DRBG per nonce, ≈ 2 µs); one modular inversion for all k and one for all the points'
 * affine x (Montgomery's trick: prefix products, one blinded inversion, one multiplication back per item),
 * where EC_POINT_get_affine_coordinates inverts per point (2.9 µs); products in Montgomery form (0.03 µs
 * against 0.2 µs for BN_mod_mul). k·G is OpenSSL's (the P-256 generator's precomputed table, 6.3 µs); the point
 * comes out in Jacobian coordinates (X, Y, Z), affine x = X/Z² (SEC 1 §2.2.1's representation, as OpenSSL
 * keeps it). The k are flagged BN_FLG_CONSTTIME like OpenSSL's own; a batch's timing is not tied to any one
 * answer. Temporaries come from ctx (no allocation per nonce but the nonce's own two numbers) and are
 * cleared before it is released. */
static size_t draw_nonces(const EC_GROUP *g, BN_CTX *ctx, EC_POINT **pts, nonce *out, size_t n) {
  const BIGNUM *order = EC_GROUP_get0_order(g);
  unsigned char rnd[NONCE_BATCH * 40];
  BIGNUM *k[NONCE_BATCH] = {0}, *ka[NONCE_BATCH] = {0}, *x[NONCE_BATCH] = {0}, *za[NONCE_BATCH] = {0};
  BN_MONT_CTX *mn = NULL, *mp = NULL;
  size_t got = 0, i;
  int ok = 0;
  if (n == 0 || n > NONCE_BATCH) return 0;
  BN_CTX_start(ctx);
  BIGNUM *nm1 = BN_CTX_get(ctx), *p = BN_CTX_get(ctx), *z = BN_CTX_get(ctx), *t = BN_CTX_get(ctx), *kinv = BN_CTX_get(ctx), *zinv = BN_CTX_get(ctx);
  if (!zinv) goto done;
  for (i = 0; i < n; i++)
    if (!(k[i] = BN_CTX_get(ctx)) || !(ka[i] = BN_CTX_get(ctx)) || !(x[i] = BN_CTX_get(ctx)) || !(za[i] = BN_CTX_get(ctx))) goto done;
  if (!BN_copy(nm1, order) || !BN_sub_word(nm1, 1) || !EC_GROUP_get_curve(g, p, NULL, NULL, ctx)) goto done;
  if (!(mn = BN_MONT_CTX_new()) || !BN_MONT_CTX_set(mn, order, ctx) || !(mp = BN_MONT_CTX_new()) || !BN_MONT_CTX_set(mp, p, ctx)) goto done;
  if (RAND_priv_bytes(rnd, (int)(n * 40)) != 1) goto done;
  for (i = 0; i < n; i++) {
    BN_set_flags(k[i], BN_FLG_CONSTTIME);
    if (!BN_bin2bn(rnd + 40 * i, 40, k[i]) || !BN_nnmod(k[i], k[i], nm1, ctx) || !BN_add_word(k[i], 1)) goto done;
    if (!EC_POINT_mul(g, pts[i], k[i], NULL, NULL, ctx)) goto done;
    /* x[i] = X, z = Z; za[i] = (Z²)·R the running product Z0²…Zi² in Montgomery form; ka[i] likewise for k. */
    if (!EC_POINT_get_Jprojective_coordinates_GFp(g, pts[i], x[i], NULL, z, ctx) || BN_is_zero(z)) goto done;
    if (!BN_to_montgomery(z, z, mp, ctx) || !BN_mod_mul_montgomery(t, z, z, mp, ctx)) goto done;
    if (i == 0 ? !BN_copy(za[0], t) : !BN_mod_mul_montgomery(za[i], za[i - 1], t, mp, ctx)) goto done;
    if (!BN_to_montgomery(t, k[i], mn, ctx)) goto done;
    if (i == 0 ? !BN_copy(ka[0], t) : !BN_mod_mul_montgomery(ka[i], ka[i - 1], t, mn, ctx)) goto done;
  }
  /* The two inversions of the batch: (k0·…·kn-1)^-1 mod order, (Z0²·…·Zn-1²)^-1 mod p, back into Montgomery form. */
  if (!BN_from_montgomery(t, ka[n - 1], mn, ctx) || !inverse_blinded(kinv, t, order, ctx) || !BN_to_montgomery(kinv, kinv, mn, ctx)) goto done;
  if (!BN_from_montgomery(t, za[n - 1], mp, ctx) || !inverse_blinded(zinv, t, p, ctx) || !BN_to_montgomery(zinv, zinv, mp, ctx)) goto done;
  ok = 1;
  for (i = n; i-- > 0;) {
    nonce o = {BN_new(), BN_new()};
    int fine = o.kinv && o.r;
    /* kinv is (k0·…·ki)^-1 here: ki^-1 = kinv·(k0·…·ki-1), then kinv·ki is (k0·…·ki-1)^-1 for the next; the
     * same for Zi^-2. A product of a Montgomery-form number and a plain one is plain. */
    if (fine && i > 0) {
      fine = BN_mod_mul_montgomery(t, kinv, ka[i - 1], mn, ctx) && BN_from_montgomery(o.kinv, t, mn, ctx) &&
             BN_to_montgomery(t, k[i], mn, ctx) && BN_mod_mul_montgomery(kinv, kinv, t, mn, ctx) &&
             BN_mod_mul_montgomery(t, zinv, za[i - 1], mp, ctx) && BN_mod_mul_montgomery(x[i], x[i], t, mp, ctx) &&
             EC_POINT_get_Jprojective_coordinates_GFp(g, pts[i], NULL, NULL, z, ctx) && BN_to_montgomery(z, z, mp, ctx) &&
             BN_mod_mul_montgomery(t, z, z, mp, ctx) && BN_mod_mul_montgomery(zinv, zinv, t, mp, ctx);
    } else if (fine) {
      fine = BN_from_montgomery(o.kinv, kinv, mn, ctx) && BN_mod_mul_montgomery(x[0], x[0], zinv, mp, ctx);
    }
    /* r = x mod order; r = 0 is not a signature (ECDSA_sign_setup draws again): that nonce is dropped. */
    if (fine) fine = BN_nnmod(o.r, x[i], order, ctx) && !BN_is_zero(o.r);
    if (!fine) {
      int oom = !o.kinv || !o.r;
      BN_clear_free(o.kinv);
      BN_clear_free(o.r);
      if (oom) {
        ok = 0;
        break;
      }
      continue;
    }
    out[got++] = o;
  }
done:
  /* BN_CTX_end keeps the numbers for the next batch: the secrets (k, products, inverses) are wiped first. */
  for (i = 0; i < n; i++) {
    if (k[i]) BN_clear(k[i]);
    if (ka[i]) BN_clear(ka[i]);
    if (x[i]) BN_clear(x[i]);
    if (za[i]) BN_clear(za[i]);
  }
  if (zinv) BN_clear(zinv), BN_clear(kinv), BN_clear(t), BN_clear(z);
  BN_MONT_CTX_free(mn);
  BN_MONT_CTX_free(mp);
  OPENSSL_cleanse(rnd, sizeof rnd);
  BN_CTX_end(ctx);
  if (!ok)
    while (got > 0) {
      got--;
      BN_clear_free(out[got].kinv);
      BN_clear_free(out[got].r);
    }
  return got;
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void signer_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  signer *s = data;
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL); /* at most one batch (about 1.5 ms) */
  }
  for (size_t i = 0; i < s->count; i++) {
    nonce *n = &s->ring[(s->head + i) % NONCE_CAP];
    BN_clear_free(n->kinv);
    BN_clear_free(n->r);
  }
  for (size_t i = 0; i < DEMAND_BATCH; i++) EC_POINT_free(s->demand_pts[i]);
  BN_CTX_free(s->demand_ctx);
  if (s->ec) EC_KEY_free(s->ec);
  if (s->ec_fill) EC_KEY_free(s->ec_fill);
  if (s->locks) {
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
  }
  if (s->tmpl) EVP_MD_CTX_free(s->tmpl);
  if (s->work) EVP_MD_CTX_free(s->work);
  if (s->sha256) EVP_MD_free(s->sha256);
  if (s->pkey) EVP_PKEY_free(s->pkey);
  OPENSSL_cleanse(s->sk, sizeof s->sk);
  free(s);
}

/* Puts nonces in the ring (the lock held); any beyond its capacity are freed. */
static void pool_nonces(signer *s, nonce *batch, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s->count < NONCE_CAP) s->ring[(s->head + s->count++) % NONCE_CAP] = batch[i];
    else {
      BN_clear_free(batch[i].kinv);
      BN_clear_free(batch[i].r);
    }
  }
}

/* The pool is empty (the refill thread got no CPU: a saturated core): the answering thread draws
 * DEMAND_BATCH nonces itself, keeps one and pools the rest. {NULL, NULL} when it cannot. */
static nonce demand_draw(signer *s) {
  nonce one = {NULL, NULL};
  const EC_GROUP *g = EC_KEY_get0_group(s->ec);
  if (!s->demand_ctx) {
    BN_CTX *ctx = BN_CTX_new();
    int ok = ctx != NULL;
    for (size_t i = 0; i < DEMAND_BATCH; i++) {
      s->demand_pts[i] = ok ? EC_POINT_new(g) : NULL;
      if (!s->demand_pts[i]) ok = 0;
    }
    if (!ok) {
      for (size_t i = 0; i < DEMAND_BATCH; i++) EC_POINT_free(s->demand_pts[i]), s->demand_pts[i] = NULL;
      BN_CTX_free(ctx);
      return one;
    }
    s->demand_ctx = ctx;
  }
  nonce got[DEMAND_BATCH];
  size_t n = draw_nonces(g, s->demand_ctx, s->demand_pts, got, DEMAND_BATCH);
  if (n == 0) return one;
  one = got[--n];
  pthread_mutex_lock(&s->mu);
  pool_nonces(s, got, n);
  pthread_mutex_unlock(&s->mu);
  return one;
}

/* The refill thread: sleeps until the pool is below NONCE_LOW, then draws batches of NONCE_BATCH with its
 * private key copy until it is full again. It needs no event loop turn, so a long synchronous stretch of
 * answers still gets fresh nonces. It runs at the lowest priority (nice 19, Linux sets it per thread): it
 * uses idle time and does not take the core from answers; on a saturated core the pool runs dry and the
 * answers sign inline, which is the same CPU in total. */
static void *refill_main(void *arg) {
  signer *s = arg;
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  BN_CTX *ctx = BN_CTX_new();
  const EC_GROUP *g = EC_KEY_get0_group(s->ec_fill);
  EC_POINT *pts[NONCE_BATCH];
  int have_pts = ctx != NULL;
  for (size_t i = 0; i < NONCE_BATCH; i++) {
    pts[i] = have_pts ? EC_POINT_new(g) : NULL;
    if (!pts[i]) have_pts = 0;
  }
  if (!have_pts) {
    BN_CTX_free(ctx);
    ctx = NULL; /* the loop below stops at once: answers draw their own nonces */
  }
  nonce batch[NONCE_BATCH];
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->stop && s->count >= NONCE_LOW) pthread_cond_wait(&s->wake, &s->mu);
    if (s->stop || !ctx) break;
    while (!s->stop && s->count + NONCE_BATCH <= NONCE_CAP) {
      pthread_mutex_unlock(&s->mu);
      size_t n = draw_nonces(g, ctx, pts, batch, NONCE_BATCH);
      pthread_mutex_lock(&s->mu);
      pool_nonces(s, batch, n);
      if (n == 0) {
        s->failed = 1; /* OpenSSL refused: answers sign inline from now on */
        break;
      }
    }
    if (s->failed) break;
  }
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < NONCE_BATCH; i++) EC_POINT_free(pts[i]);
  BN_CTX_free(ctx);
  return NULL;
}

/* createSigner(algorithm, pkcs8Der[, nonces = true]) -> external; nonces false: ECDSA always signs inline */
static napi_value create_signer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return fail(env, "createSigner(algorithm, pkcs8)");
  bool nonces = true;
  if (argc > 2) napi_get_value_bool(env, argv[2], &nonces);
  int32_t alg = 0;
  if (napi_get_value_int32(env, argv[0], &alg) != napi_ok || (alg != 13 && alg != 15)) return fail(env, "createSigner: algorithm must be 13 or 15");
  void *der = NULL;
  size_t der_len = 0;
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed) return fail(env, "createSigner: pkcs8 must be a Uint8Array");
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[1], &tt, &der_len, &der, &ab, &off) != napi_ok) return fail(env, "createSigner: bad pkcs8");
  const unsigned char *p = der;
  EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)der_len);
  if (!pkey) return fail(env, "createSigner: the private key does not parse");
  signer *s = calloc(1, sizeof *s);
  if (!s) {
    EVP_PKEY_free(pkey);
    return fail(env, "createSigner: out of memory");
  }
  s->algorithm = alg;
  s->pkey = pkey;
  int ok;
  if (alg == 13) {
    ok = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && (s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) != NULL &&
         (s->ec = EVP_PKEY_get1_EC_KEY(pkey)) != NULL && (s->ec_fill = EC_KEY_dup(s->ec)) != NULL;
    if (ok && pthread_mutex_init(&s->mu, NULL) == 0) {
      if (pthread_cond_init(&s->wake, NULL) == 0) s->locks = 1;
      else pthread_mutex_destroy(&s->mu);
    }
    ok = ok && s->locks;
    /* The first batch is drawn at once, before the first answer needs it. Without a thread: inline only. */
    if (ok && nonces) s->started = pthread_create(&s->thread, NULL, refill_main, s) == 0;
    if (ok && !s->started) s->failed = 1;
  } else {
#ifdef FLUXDNS_SODIUM
    /* The PKCS #8 key holds the 32-byte seed (RFC 8410 §7); libsodium expands it as RFC 8032 §5.1.5 does. */
    unsigned char seed[32], pk[32];
    size_t seed_len = sizeof seed;
    if (sodium_ready && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 && EVP_PKEY_get_raw_private_key(pkey, seed, &seed_len) == 1 &&
        seed_len == 32 && crypto_sign_seed_keypair(pk, s->sk, seed) == 0)
      s->sodium = 1;
    OPENSSL_cleanse(seed, sizeof seed);
#endif
    ok = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 && (s->tmpl = EVP_MD_CTX_new()) != NULL && (s->work = EVP_MD_CTX_new()) != NULL &&
         EVP_DigestSignInit_ex(s->tmpl, NULL, NULL, NULL, NULL, pkey, NULL) == 1;
  }
  if (!ok) {
    signer_free(env, s, NULL);
    return fail(env, "createSigner: the key does not match the algorithm or OpenSSL refused it");
  }
  napi_value ext;
  if (napi_create_external(env, s, signer_free, NULL, &ext) != napi_ok) {
    signer_free(env, s, NULL);
    return fail(env, "createSigner: napi_create_external failed");
  }
  return ext;
}

/* The 64-byte signature of data[0..len) into out (ECDSA r||s, Ed25519); NULL, or the message of the failure. */
static const char *sign_raw(signer *s, const void *data, size_t len, unsigned char out[64]) {
  if (s->algorithm == 13) {
    unsigned char digest[32];
    unsigned int dlen = 0;
    if (EVP_Digest(data, len, digest, &dlen, s->sha256, NULL) != 1) return "sign: SHA-256 failed";
    nonce n = {NULL, NULL};
    pthread_mutex_lock(&s->mu);
    if (s->count > 0) {
      n = s->ring[s->head];
      s->ring[s->head].kinv = s->ring[s->head].r = NULL;
      s->head = (s->head + 1) % NONCE_CAP;
      s->count--;
    }
    if (s->count < NONCE_LOW && !s->failed) pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    int drawn_ahead = n.kinv != NULL;
    /* None ready: drawn here, in a batch (nonces on: the refill thread exists and has not failed). */
    if (!n.kinv && s->started && !s->failed) n = demand_draw(s);
    ECDSA_SIG *sig = NULL;
    if (n.kinv) {
      sig = ECDSA_do_sign_ex(digest, (int)dlen, n.kinv, n.r, s->ec);
      BN_clear_free(n.kinv);
      BN_clear_free(n.r);
      if (sig) {
        if (drawn_ahead) s->pooled++;
        else s->inline_signs++;
      }
    }
    /* Pool empty (or s came out 0 for that nonce, which needs a fresh one): sign inline. */
    if (!sig && (sig = ECDSA_do_sign(digest, (int)dlen, s->ec)) != NULL) s->inline_signs++;
    if (!sig) return "sign: ECDSA signing failed";
    const BIGNUM *r, *sv;
    ECDSA_SIG_get0(sig, &r, &sv);
    int ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(sv, out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    if (!ok) return "sign: ECDSA signature out of range";
  } else {
#ifdef FLUXDNS_SODIUM
    if (s->sodium) return crypto_sign_detached(out, NULL, data, len, s->sk) == 0 ? NULL : "sign: Ed25519 signing failed";
#endif
    size_t sig_len = 64;
    if (EVP_MD_CTX_copy_ex(s->work, s->tmpl) != 1 || EVP_DigestSign(s->work, out, &sig_len, data, len) != 1 || sig_len != 64) {
      /* A provider without context duplication: prepare the context again. */
      sig_len = 64;
      EVP_MD_CTX_reset(s->work);
      if (EVP_DigestSignInit_ex(s->work, NULL, NULL, NULL, NULL, s->pkey, NULL) != 1 || EVP_DigestSign(s->work, out, &sig_len, data, len) != 1 || sig_len != 64)
        return "sign: Ed25519 signing failed";
    }
  }
  return NULL;
}

/* The signer and the data's bytes of a call's first two arguments; NULL after throwing. */
static signer *signer_and_data(napi_env env, napi_value *argv, void **data, size_t *len) {
  signer *s = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || !s) return fail(env, "sign: not a signer"), NULL;
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[1], &tt, len, data, &ab, &off) != napi_ok || (*len > 0 && tt != napi_uint8_array))
    return fail(env, "sign: data must be a Uint8Array"), NULL;
  return s;
}

/* sign(signer, data) -> Buffer (ECDSA: 64 bytes r||s; Ed25519: 64 bytes) */
static napi_value sign_data(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return fail(env, "sign(signer, data)");
  void *data = NULL;
  size_t len = 0;
  signer *s = signer_and_data(env, argv, &data, &len);
  if (!s) return NULL;
  unsigned char out[64];
  const char *err = sign_raw(s, data, len, out);
  if (err) return fail(env, err);
  napi_value buf;
  void *dst;
  if (napi_create_buffer_copy(env, 64, out, &dst, &buf) != napi_ok) return fail(env, "sign: napi_create_buffer_copy failed");
  return buf;
}

/* signInto(signer, data, out, offset): the 64-byte signature written at out[offset]. No Buffer is made per
 * signature (napi_create_buffer_copy's own backing store and its finalizer cost more than a copy). */
static napi_value sign_into(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return fail(env, "signInto(signer, data, out, offset)");
  void *data = NULL;
  size_t len = 0;
  signer *s = signer_and_data(env, argv, &data, &len);
  if (!s) return NULL;
  void *dst = NULL;
  size_t dst_len = 0;
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  bool is_typed = false;
  uint32_t at = 0;
  napi_is_typedarray(env, argv[2], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[2], &tt, &dst_len, &dst, &ab, &off) != napi_ok || tt != napi_uint8_array)
    return fail(env, "signInto: out must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[3], &at) != napi_ok || dst_len < 64 || at > dst_len - 64) return fail(env, "signInto: no room for 64 bytes at offset");
  const char *err = sign_raw(s, data, len, (unsigned char *)dst + at);
  if (err) return fail(env, err);
  return NULL;
}

/* stats(signer) -> [signatures with a pooled nonce, signatures made inline, nonces ready] (Ed25519: [0, 0, 0]) */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  signer *s = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || !s)
    return fail(env, "stats(signer)");
  double ready = 0;
  if (s->locks) {
    pthread_mutex_lock(&s->mu);
    ready = (double)s->count;
    pthread_mutex_unlock(&s->mu);
  }
  napi_value out, a, b, c;
  napi_create_array_with_length(env, 3, &out);
  napi_create_double(env, s->pooled, &a);
  napi_create_double(env, s->inline_signs, &b);
  napi_create_double(env, ready, &c);
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  napi_set_element(env, out, 2, c);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
#ifdef FLUXDNS_SODIUM
  /* FLUXDNS_SODIUM=0: OpenSSL signs Ed25519 (to compare the two, or to rule libsodium out). */
  const char *use = getenv("FLUXDNS_SODIUM");
  sodium_ready = !(use && strcmp(use, "0") == 0) && sodium_init() >= 0;
#endif
  /* Which library makes Ed25519 signatures (the benchmark prints it). */
  napi_create_string_utf8(env, sodium_ready ? "libsodium" : "openssl", NAPI_AUTO_LENGTH, &f);
  napi_set_named_property(env, exports, "ed25519", f);
  napi_create_function(env, "createSigner", NAPI_AUTO_LENGTH, create_signer, NULL, &f);
  napi_set_named_property(env, exports, "createSigner", f);
  napi_create_function(env, "sign", NAPI_AUTO_LENGTH, sign_data, NULL, &f);
  napi_set_named_property(env, exports, "sign", f);
  napi_create_function(env, "signInto", NAPI_AUTO_LENGTH, sign_into, NULL, &f);
  napi_set_named_property(env, exports, "signInto", f);
  napi_create_function(env, "stats", NAPI_AUTO_LENGTH, stats, NULL, &f);
  napi_set_named_property(env, exports, "stats", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
