// Reads every online-signing key when the configuration loads, so a missing or unusable key file is a configuration error (file, line, key path) and never a SERVFAIL later.
import { isAbsolute, resolve } from 'node:path';
import { KeyFileError, readKeyFiles, type DnssecKey } from '../keys.js';
import type { DnssecConfig } from './schema.js';

/** Where a `dnssec` block sits in the configuration and the zone apex its keys must belong to. */
export interface DnssecSite {
  readonly path: (string | number)[];
  readonly apex: string;
  readonly config: DnssecConfig;
}

/** The parts of a configuration that may carry `dnssec` (structural, so this module imports no config schema). */
export interface DnssecConfigSources {
  zones: readonly { name: string; dnssec?: DnssecConfig }[];
  echo: readonly { zone: string; dnssec?: DnssecConfig }[];
  policies: readonly { zone?: { name: string; dnssec?: DnssecConfig } }[];
  services: readonly { name: readonly string[]; dnssec?: DnssecConfig }[];
}

export function dnssecSites(c: DnssecConfigSources): DnssecSite[] {
  const out: DnssecSite[] = [];
  c.zones.forEach((z, i) => z.dnssec && out.push({ path: ['zones', i, 'dnssec'], apex: z.name, config: z.dnssec }));
  c.echo.forEach((z, i) => z.dnssec && out.push({ path: ['echo', i, 'dnssec'], apex: z.zone, config: z.dnssec }));
  c.policies.forEach((p, i) => p.zone?.dnssec && out.push({ path: ['policies', i, 'zone', 'dnssec'], apex: p.zone.name, config: p.zone.dnssec }));
  c.services.forEach((s, i) => {
    if (s.dnssec) for (const n of s.name) out.push({ path: ['services', i, 'dnssec'], apex: n, config: s.dnssec });
  });
  return out;
}

/** Keys read for a `dnssec` block, by the block object (a reload parses new objects and reads afresh). */
const loaded = new WeakMap<DnssecConfig, DnssecKey[]>();

export interface KeyIssue {
  path: (string | number)[];
  message: string;
}

function readAll(d: DnssecConfig, apexes: readonly string[] | null, path: (string | number)[]): { keys: DnssecKey[]; issues: KeyIssue[] } {
  const want = apexes?.map((a) => a.toLowerCase());
  const keys: DnssecKey[] = [];
  const issues: KeyIssue[] = [];
  d.keys.forEach((file, j) => {
    try {
      const k = readKeyFiles(file);
      if (want && !want.includes(k.zone)) issues.push({ path: [...path, 'keys', j], message: `${file}: the key is for ${k.zone}, not ${apexes!.join(' or ')}` });
      else keys.push(k);
    } catch (e) {
      // KeyFileError names the file and line and never quotes the key; anything else is reported by its message alone.
      issues.push({ path: [...path, 'keys', j], message: e instanceof KeyFileError ? e.message : `${file}: ${(e as Error).message}` });
    }
  });
  return { keys, issues };
}

/** Makes key paths absolute (relative to the configuration's folder) and reads every key; returns the problems. */
export function readDnssecKeys(c: DnssecConfigSources, baseDir: string): KeyIssue[] {
  const issues: KeyIssue[] = [];
  const sites = dnssecSites(c);
  for (const site of sites) {
    const d = site.config;
    if (loaded.has(d)) continue; // a service with several names shares one block
    d.keys = d.keys.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f)));
    const apexes = sites.filter((s) => s.config === d).map((s) => s.apex);
    const r = readAll(d, apexes, site.path);
    issues.push(...r.issues);
    for (const apex of apexes) if (!r.keys.some((k) => k.zone === apex.toLowerCase()) && r.issues.length === 0) issues.push({ path: [...site.path, 'keys'], message: `no key for ${apex} among the key files` });
    loaded.set(d, r.keys);
  }
  return issues;
}

/** The keys of a block: read at load; a configuration built in memory (tests, a worker's copy) reads them on first use. */
export function keysOf(d: DnssecConfig, apex: string): DnssecKey[] {
  let keys = loaded.get(d);
  if (!keys) {
    const r = readAll(d, null, []);
    if (r.issues.length > 0) throw new Error(r.issues.map((i) => i.message).join('; '));
    keys = r.keys;
    loaded.set(d, keys);
  }
  // A service with several names: keep only the keys of this apex.
  return keys.filter((k) => k.zone === apex.toLowerCase());
}
