// The key ring: configured keys by lower-case name with decoded secrets, built once per loaded configuration.
import { perConfig } from '../config/per-config.js';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { algorithmByName, type TsigAlgorithm } from './algorithms.js';
import { isBase64Secret, type TsigConfig } from './schema.js';

export interface TsigKey {
  /** Absolute, lower case. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

export type KeyRing = ReadonlyMap<string, TsigKey>;

/** Keys of this configuration; `secretFile` entries were turned into `secret` when it was loaded. */
export const keyRingOf: (config: TsigConfig) => KeyRing = perConfig((config: TsigConfig) => {
  const m = new Map<string, TsigKey>();
  for (const k of config.keys) {
    if (k.secret === undefined) continue;
    m.set(k.name, { name: k.name, algorithm: algorithmByName(k.algorithm)!, secret: Buffer.from(k.secret.replace(/\s+/g, ''), 'base64') });
  }
  return m;
});

export interface SecretFileIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Reads each key's `secretFile` (relative to the configuration's folder) into `secret`. The file holds
 * the base64 secret alone, or a BIND key clause (`tsig-keygen` output) whose `secret "…";` is used.
 * Issues name the key path; they never include the file's content.
 */
export function readSecretFiles(config: TsigConfig, baseDir: string): SecretFileIssue[] {
  const issues: SecretFileIssue[] = [];
  config.keys.forEach((k, i) => {
    if (k.secretFile === undefined) return;
    const file = isAbsolute(k.secretFile) ? k.secretFile : resolve(baseDir, k.secretFile);
    k.secretFile = file;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      issues.push({ path: ['tsig', 'keys', i, 'secretFile'], message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}` });
      return;
    }
    const clause = /secret\s+"([^"]*)"\s*;/.exec(text);
    const secret = (clause ? clause[1]! : text).trim();
    if (!isBase64Secret(secret)) {
      issues.push({ path: ['tsig', 'keys', i, 'secretFile'], message: `expected ${file} to hold a base64 secret (or a BIND key clause with secret "…";)` });
      return;
    }
    k.secret = secret;
  });
  return issues;
}
