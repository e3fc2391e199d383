// Signing through the native addon (native/dnssec_sign.c) with an OpenSSL context prepared once per key, and node:crypto when the addon is not built.
import { createRequire } from 'node:module';
import type { KeyObject } from 'node:crypto';

interface NativeDnssec {
  createSigner(algorithm: number, pkcs8: Uint8Array): object;
  sign(signer: object, data: Uint8Array): Uint8Array;
}

let addon: NativeDnssec | null | undefined;

/**
 * The addon, or null when it is not built or turned off (`FLUXDNS_NATIVE_SIGN=0`, which the benchmark
 * uses to compare the two). node:crypto's sign() prepares a new context for every signature; with the
 * addon an ECDSA P-256 signature costs about two thirds of that CPU (bench:dnssec prints both).
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

/** The 64-byte signature (ECDSA r‖s, Ed25519) made by the addon, or undefined when node:crypto must sign. */
export function nativeSign(algorithm: number, key: KeyObject, data: Uint8Array): Uint8Array | undefined {
  const a = nativeAddon();
  if (!a) return undefined;
  let s = signers.get(key);
  if (s === undefined || s.algorithm !== algorithm) {
    let signer: object | null;
    try {
      signer = a.createSigner(algorithm, key.export({ format: 'der', type: 'pkcs8' }));
    } catch {
      signer = null;
    }
    signers.set(key, (s = { algorithm, signer }));
  }
  return s.signer === null ? undefined : a.sign(s.signer, data);
}

/** Which signer is in use, for the benchmark's output. */
export function nativeSigning(): boolean {
  return nativeAddon() !== null;
}
