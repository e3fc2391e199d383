// One table of authorities: every zone fluxdns answers for — master file, echo zone, policy-owned zone —
// and every service name, registered by the module that answers it when the configuration loads. A
// query resolves its authority once (ctx.authority); only the responder of that kind answers it.
import { nameKey, parentName } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { Zone } from '../zone/tree.js';
import { wireName, type WireName } from '../zone/compiled.js';
import type { EchoZoneConfig } from '../modules/echo/schema.js';

export type Authority =
  /** A master-file zone (zones[]): the zone module answers from it. */
  | { readonly kind: 'file'; readonly name: string; readonly zone: Zone }
  /** A Stateless DNS zone (echo[]): every answer synthesized from the name. */
  | { readonly kind: 'echo'; readonly name: string; readonly echo: EchoZoneConfig }
  /** A zone a policy owns without a file (policies[].zone): SOA and NS at the apex, NODATA elsewhere. */
  | { readonly kind: 'policy'; readonly name: string; readonly zone: Zone }
  /** A service name (services[].name): that exact name only, any type; it wins over a zone's record. */
  | { readonly kind: 'service'; readonly name: string };

export type AuthorityKind = Authority['kind'];

/**
 * Which kind wins when two register the same apex: an echo zone is synthesized over a file of the
 * same name (the echo responder ran before the zone responder), a file zone over a policy-owned one
 * (the policy-zone responder ran last).
 */
const RANK: Record<AuthorityKind, number> = { service: 3, echo: 2, file: 1, policy: 0 };

export class AuthorityTable {
  /** Zones by lower-case apex. */
  private readonly zones = new Map<string, Authority>();
  /** Service names by lower-case name (exact match). */
  private readonly services = new Map<string, Authority>();
  /**
   * With few zones, their apexes longest first: the first that ends the name at a label boundary is
   * the deepest. No substring per label and no string hashing for a name never seen before (each new
   * name's lookup in a Map hashes it, then each parent again).
   */
  private few: { readonly key: string; readonly a: Authority }[] | undefined;
  /**
   * The same zones and services by the hash of their lower-cased wire name (compiled.ts hashLabel, the
   * suffix hashes a WireName carries), for resolveWire: a query's name is matched from its bytes, with
   * no text made. Several names may share a hash: the bytes decide.
   */
  private readonly zonesByHash = new Map<number, WireEntry[]>();
  private readonly servicesByHash = new Map<number, WireEntry[]>();
  /** With few zones, their wire names most labels first: the first whose suffix hash and bytes match is the deepest. */
  private fewWire: WireEntry[] | undefined;

  constructor(
    entries: Iterable<Authority> = [],
    /** What the table was built from: a runtime with other zones or another configuration needs a new one. */
    private readonly source?: { readonly config: unknown; readonly zones: unknown },
  ) {
    for (const a of entries) this.add(a);
    for (const a of this.zones.values()) addWire(this.zonesByHash, a);
    for (const a of this.services.values()) addWire(this.servicesByHash, a);
    if (this.zones.size <= FEW_ZONES) this.fewWire = [...this.zonesByHash.values()].flat().sort((x, y) => y.labels - x.labels);
    if (this.zones.size <= FEW_ZONES) this.few = [...this.zones].map(([key, a]) => ({ key, a })).sort((x, y) => y.key.length - x.key.length);
  }

  builtFrom(config: unknown, zones: unknown): boolean {
    return this.source !== undefined && this.source.config === config && this.source.zones === zones;
  }

  private add(a: Authority): void {
    const map = a.kind === 'service' ? this.services : this.zones;
    const key = nameKey(a.name);
    const had = map.get(key);
    if (!had || RANK[a.kind] > RANK[had.kind]) map.set(key, a);
  }

  get size(): number {
    return this.zones.size + this.services.size;
  }

  /** Every registered authority (for status output and tests). */
  all(): Authority[] {
    return [...this.services.values(), ...this.zones.values()];
  }

  /**
   * The authority that answers (name, qtype): a service of that exact name; else the deepest zone
   * holding the name — except for DS, which is the parent's record (RFC 4035 §3.1.4.1): the deepest
   * zone holding the parent name answers it, and the child only when nothing holds the parent.
   */
  resolve(name: string, qtype: number): Authority | undefined {
    const key = nameKey(name);
    if (this.services.size > 0) {
      const s = this.services.get(key);
      if (s) return s;
    }
    if (qtype === RRType.DS && key !== '.') {
      const parent = this.deepest(parentName(key));
      if (parent) return parent;
    }
    return this.deepest(key);
  }

  /**
   * resolve() for a name in lower-cased wire form with its suffix hashes (the query's question,
   * compiled.ts questionWireName): the same answer, found without the name's text.
   */
  resolveWire(w: WireName, qtype: number): Authority | undefined {
    const labels = w.offs.length;
    if (this.services.size > 0) {
      const s = findWire(this.servicesByHash, w, 0);
      if (s) return s;
    }
    if (this.zones.size === 0) return undefined;
    if (qtype === RRType.DS && labels > 0) {
      const parent = this.deepestWire(w, 1);
      if (parent) return parent;
    }
    return this.deepestWire(w, 0);
  }

  /** The deepest zone holding the suffix of `w` from label `from` on. */
  private deepestWire(w: WireName, from: number): Authority | undefined {
    const labels = w.offs.length;
    const few = this.fewWire;
    if (few !== undefined) {
      for (const e of few) {
        const i = labels - e.labels;
        if (i >= from && w.hashes[i] === e.hash && sameSuffix(e, w, i)) return e.a;
      }
      return undefined;
    }
    for (let i = from; i <= labels; i++) {
      const a = findWire(this.zonesByHash, w, i);
      if (a) return a;
    }
    return undefined;
  }

  /** Longest-suffix match of a lower-case name against the zone apexes. */
  deepest(key: string): Authority | undefined {
    if (this.zones.size === 0) return undefined;
    // Without escapes in the name, a dot before the suffix is a label boundary.
    if (this.few !== undefined && key.indexOf('\\') < 0) {
      for (const z of this.few) {
        if (z.key === '.') return z.a;
        const d = key.length - z.key.length;
        if (d === 0 ? key === z.key : d > 0 && key.charCodeAt(d - 1) === 0x2e && key.endsWith(z.key)) return z.a;
      }
      return undefined;
    }
    for (;;) {
      const a = this.zones.get(key);
      if (a) return a;
      if (key === '.') return undefined;
      key = parentName(key);
    }
  }
}

interface WireEntry {
  /** The name in lower-cased wire form, its label count and its hash (WireName.hashes[0]). */
  readonly wire: Uint8Array;
  readonly labels: number;
  readonly hash: number;
  readonly a: Authority;
}

/** A Map key of a suffix hash: 30 bits stay a small integer (no boxed number per probe). */
const smi = (h: number): number => h & 0x3fffffff;

function addWire(map: Map<number, WireEntry[]>, a: Authority): void {
  const w = wireName(nameKey(a.name));
  const e = { wire: w.wire, labels: w.offs.length, hash: w.hashes[0]!, a };
  const list = map.get(smi(e.hash));
  if (list) list.push(e);
  else map.set(smi(e.hash), [e]);
}

/** Whether `e` names the suffix of `w` from label `label` on (bytes compared). */
function sameSuffix(e: WireEntry, w: WireName, label: number): boolean {
  const at = label < w.offs.length ? w.offs[label]! : w.root;
  const b = e.wire;
  const len = b.length;
  if (w.root + 1 - at !== len) return false;
  const q = w.wire;
  for (let i = 0; i < len; i++) if (b[i] !== q[at + i]) return false;
  return true;
}

/** The entry named by the suffix of `w` from label `label` on, or undefined. */
function findWire(map: Map<number, WireEntry[]>, w: WireName, label: number): Authority | undefined {
  const list = map.get(smi(w.hashes[label]!));
  if (list === undefined) return undefined;
  for (const e of list) if (sameSuffix(e, w, label)) return e.a;
  return undefined;
}

/** Up to this many zones, `deepest` compares suffixes instead of walking up through the Map. */
const FEW_ZONES = 8;

export const EMPTY_AUTHORITIES = new AuthorityTable();

/**
 * A runtime made by hand (tests, tools) has no table: the registry (answer/units.ts) installs how to
 * derive one from the configuration and the zones, and it is derived once per runtime object.
 */
type Deriver = (runtime: { readonly config: unknown; readonly zones: unknown }) => AuthorityTable;
let deriver: Deriver | undefined;
const derived = new WeakMap<object, AuthorityTable>();

export function setAuthorityDeriver(d: Deriver): void {
  deriver = d;
}

export function derivedAuthorities(runtime: { readonly config: unknown; readonly zones: unknown }): AuthorityTable {
  let t = derived.get(runtime);
  if (!t) {
    t = deriver ? deriver(runtime) : EMPTY_AUTHORITIES;
    derived.set(runtime, t);
  }
  return t;
}
