/* DNSSEC signing for fluxdns with a prepared OpenSSL context per key (src/dnssec/native-signer.ts).
 * node:crypto's sign() sets up a new EVP_PKEY_CTX (provider fetch, key export) for every signature; here
 * the context is made once per key: ECDSA P-256 signs a SHA-256 digest with EVP_PKEY_sign on the kept
 * context and returns r||s (RFC 6605 §4); Ed25519 copies a prepared EVP_MD_CTX and signs with
 * EVP_DigestSign (RFC 8080 §4). The OpenSSL symbols are Node's own (its binary exports them), so no
 * second libcrypto is loaded. N-API only; everything runs on the calling thread. */
#include <node_api.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int algorithm;       /* 13 ECDSAP256SHA256, 15 ED25519 */
  EVP_PKEY *pkey;
  EVP_PKEY_CTX *pctx;  /* ECDSA: initialised for EVP_PKEY_sign */
  EVP_MD_CTX *tmpl;    /* Ed25519: initialised for EVP_DigestSign, copied per signature */
  EVP_MD_CTX *work;
  EVP_MD *sha256;
} signer;

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void signer_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  signer *s = data;
  if (s->pctx) EVP_PKEY_CTX_free(s->pctx);
  if (s->tmpl) EVP_MD_CTX_free(s->tmpl);
  if (s->work) EVP_MD_CTX_free(s->work);
  if (s->sha256) EVP_MD_free(s->sha256);
  if (s->pkey) EVP_PKEY_free(s->pkey);
  free(s);
}

/* createSigner(algorithm, pkcs8Der) -> external */
static napi_value create_signer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return fail(env, "createSigner(algorithm, pkcs8)");
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
         (s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) != NULL && EVP_PKEY_sign_init(s->pctx) == 1;
  } else {
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

/* sign(signer, data) -> Buffer (ECDSA: 64 bytes r||s; Ed25519: 64 bytes) */
static napi_value sign_data(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return fail(env, "sign(signer, data)");
  signer *s = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || !s) return fail(env, "sign: not a signer");
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[1], &tt, &len, &data, &ab, &off) != napi_ok) return fail(env, "sign: data must be a Uint8Array");
  if (len > 0 && tt != napi_uint8_array) return fail(env, "sign: data must be a Uint8Array");
  unsigned char out[64];
  if (s->algorithm == 13) {
    unsigned char digest[32];
    unsigned int dlen = 0;
    unsigned char der[80];
    size_t der_len = sizeof der;
    if (EVP_Digest(data, len, digest, &dlen, s->sha256, NULL) != 1 || EVP_PKEY_sign(s->pctx, der, &der_len, digest, dlen) != 1) return fail(env, "sign: ECDSA signing failed");
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig) return fail(env, "sign: ECDSA signature did not decode");
    const BIGNUM *r, *sv;
    ECDSA_SIG_get0(sig, &r, &sv);
    int ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(sv, out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    if (!ok) return fail(env, "sign: ECDSA signature out of range");
  } else {
    size_t sig_len = sizeof out;
    if (EVP_MD_CTX_copy_ex(s->work, s->tmpl) != 1 || EVP_DigestSign(s->work, out, &sig_len, data, len) != 1 || sig_len != 64) {
      /* A provider without context duplication: prepare the context again. */
      sig_len = sizeof out;
      EVP_MD_CTX_reset(s->work);
      if (EVP_DigestSignInit_ex(s->work, NULL, NULL, NULL, NULL, s->pkey, NULL) != 1 || EVP_DigestSign(s->work, out, &sig_len, data, len) != 1 || sig_len != 64)
        return fail(env, "sign: Ed25519 signing failed");
    }
  }
  napi_value buf;
  void *dst;
  if (napi_create_buffer_copy(env, 64, out, &dst, &buf) != napi_ok) return fail(env, "sign: napi_create_buffer_copy failed");
  return buf;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "createSigner", NAPI_AUTO_LENGTH, create_signer, NULL, &f);
  napi_set_named_property(env, exports, "createSigner", f);
  napi_create_function(env, "sign", NAPI_AUTO_LENGTH, sign_data, NULL, &f);
  napi_set_named_property(env, exports, "sign", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
