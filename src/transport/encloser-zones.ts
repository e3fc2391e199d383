// The zones the UDP addon may answer names below a closest encloser from (encloser replay, answer/replay.ts):
// what the addon needs of each (its compiled arrays, searched in C as the lookup searches them) and which
// zones qualify — those whose every name is answered by the zone responder from exactly these arrays.
import { derivedAuthorities } from '../answer/authority.js';
import type { Runtime } from '../answer/context.js';
import { isSubdomain, nameKey } from '../wire/name.js';
import { wireName } from '../zone/compiled.js';
import { dnssecIndexOf } from '../dnssec/serve/index.js';
import { nsec3ReplayArena } from '../dnssec/serve/nsec3-replay.js';
import type { EncloserZone } from './udp-native.js';

/** The addon's limit: a zone's slot is one byte of a template's key (native/udp_batch.c). */
export const MAX_ENCLOSER_ZONES = 255;

const made = new WeakMap<Runtime, readonly EncloserZone[]>();

/**
 * The file zones of `runtime` no other authority answers any name at or below the apex of (no echo zone,
 * policy-owned zone, service name, deeper zone — configured zones that are not loaded included: a secondary
 * before its first transfer answers SERVFAIL), at most MAX_ENCLOSER_ZONES. Cuts and DNAMEs inside a zone
 * are the addon's to skip (their node flags). Made once per runtime: every swap brings a new one.
 */
export function encloserZones(runtime: Runtime): readonly EncloserZone[] {
  let zones = made.get(runtime);
  if (zones !== undefined) return zones;
  const authorities = (runtime.authorities ?? derivedAuthorities(runtime)).all();
  const names = [...authorities.map((a) => nameKey(a.name)), ...runtime.config.zones.map((z) => nameKey(z.name))];
  const out: EncloserZone[] = [];
  for (const a of authorities) {
    if (a.kind !== 'file' || out.length >= MAX_ENCLOSER_ZONES) continue;
    const apex = nameKey(a.name);
    // A service name answers its exact name (and `_exceptions.` below it): one at the apex counts too.
    const other = authorities.some((o) => o !== a && isSubdomain(o.name, apex) && (o.kind === 'service' || nameKey(o.name) !== apex));
    if (other || names.some((k) => k !== apex && isSubdomain(k, apex))) continue;
    const b = a.zone.buffers;
    const w = wireName(apex);
    // A signed NSEC3 zone's chain, for the NSEC3 hole of its DO replies (made once per loaded zone).
    const idx = dnssecIndexOf(a.zone);
    const nsec3 = idx !== undefined ? nsec3ReplayArena(idx) : undefined;
    out.push({ apex: w.wire.subarray(0, w.root + 1), index: b.index, nodeHash: b.nodeHash, nodeName: b.nodeName, names: b.names, nodeFlags: b.nodeFlags, ...(nsec3 !== undefined ? { nsec3 } : {}) });
  }
  zones = out;
  made.set(runtime, zones);
  return zones;
}
