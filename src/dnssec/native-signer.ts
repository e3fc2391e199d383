// Signing through the native addon (native/dnssec_sign.c) with an OpenSSL context prepared once per key, and node:crypto when the addon is not built.
import { createRequire } from 'node:module';
import type { KeyObject } from 'node:crypto';

interface NativeDnssec {
  createSigner(algorithm: number, pkcs8: Uint8Array, nonces: boolean): object;
  sign(signer: object, data: Uint8Array): Uint8Array;
  /** The 64-byte signature written at out[offset] (no Buffer made for it); absent from an addon built before it. */
  signInto?(signer: object, data: Uint8Array, out: Uint8Array, offset: number): void;
  /** [signatures made with a nonce drawn ahead of need, signatures made inline because none was ready, nonces ready] */
  stats(signer: object): [number, number, number];
  /** The library that makes Ed25519 signatures: libsodium when the addon was built with it, else Node's OpenSSL; absent from an addon built before it. */
  ed25519?: 'libsodium' | 'openssl';
}

let addon: NativeDnssec | null | undefined;

/**
 * The addon, or null when it is not built or turned off (`FLUXDNS_NATIVE_SIGN=0`, which the benchmark
 * uses to compare the two). node:crypto's sign() prepares a new context for every signature. With the
 * addon, ECDSA P-256 nonces (k⁻¹ and r = x(k·G), the scalar multiplication that is most of a signature)
 * are drawn ahead of need on libuv's thread pool, so an answer's signature is a hash and two modular
 * multiplications (native/dnssec_sign.c).
 */
function nativeAddon(): NativeDnssec | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.FLUXDNS_NATIVE_SIGN === '0') return addon;
  try {
    const require = createRequire(import.meta.url);
    addon = require('../../native/build/Release/fluxdns_dnssec.node') as NativeDnssec;
  } catch {
    // Not built (no compiler or headers at install): node:crypto signs.
  }
  return addon;
}

/** One prepared signer per private key (and algorithm asked); null when the addon cannot take the key. */
const signers = new WeakMap<KeyObject, { algorithm: number; signer: object | null }>();

/** The prepared signer of `key` for `algorithm`, or null when the addon is absent or cannot take the key. */
function signerFor(a: NativeDnssec, algorithm: number, key: KeyObject): object | null {
  let s = signers.get(key);
  if (s === undefined || s.algorithm !== algorithm) {
    let signer: object | null;
    try {
      // FLUXDNS_DNSSEC_NONCES=0: no nonces drawn ahead (every ECDSA signature inline; tests of the empty pool use it).
      signer = a.createSigner(algorithm, key.export({ format: 'der', type: 'pkcs8' }), process.env.FLUXDNS_DNSSEC_NONCES !== '0');
    } catch {
      signer = null;
    }
    signers.set(key, (s = { algorithm, signer }));
  }
  return s.signer;
}

/** The 64-byte signature (ECDSA r‖s, Ed25519) made by the addon, or undefined when node:crypto must sign. */
export function nativeSign(algorithm: number, key: KeyObject, data: Uint8Array): Uint8Array | undefined {
  const a = nativeAddon();
  const signer = a && signerFor(a, algorithm, key);
  return signer ? a!.sign(signer, data) : undefined;
}

/**
 * Writes the 64-byte signature at out[offset] (out must have room for it) and returns true; false when the
 * addon cannot (not built, the key refused, or an addon built before signInto: the caller signs another way).
 */
export function nativeSignInto(algorithm: number, key: KeyObject, data: Uint8Array, out: Uint8Array, offset: number): boolean {
  const a = nativeAddon();
  if (!a?.signInto) return false;
  const signer = signerFor(a, algorithm, key);
  if (!signer) return false;
  a.signInto(signer, data, out, offset);
  return true;
}

/** Which signer is in use, for the benchmark's output. */
export function nativeSigning(): boolean {
  return nativeAddon() !== null;
}

/** Who makes Ed25519 signatures: 'libsodium' or 'openssl' (the addon's), or 'node:crypto' without the addon. */
export function ed25519Signer(): 'libsodium' | 'openssl' | 'node:crypto' {
  const a = nativeAddon();
  return a ? (a.ed25519 ?? 'openssl') : 'node:crypto';
}

/** Signatures of `key` made with a nonce drawn ahead of need and made inline (the pool was empty), and the nonces ready now; zeros without the addon or for Ed25519. */
export function nativeSignStats(key: KeyObject): { pooled: number; inline: number; ready: number } {
  const s = signers.get(key);
  // An addon built before the nonce pool has no stats(): zeros (node scripts/build-native.mjs rebuilds it).
  if (!addon || !s?.signer || typeof addon.stats !== 'function') return { pooled: 0, inline: 0, ready: 0 };
  const [pooled, inline, ready] = addon.stats(s.signer);
  return { pooled, inline, ready };
}
