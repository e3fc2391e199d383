// Stateless DNS key-value client (seed 003 §2.3–2.8): put = one programming query through the resolver,
// get = the method's retrieving query and the value read back from its answer, put-if-absent per §2.7.4.
import { decodeData, decodeTxt, encodeA, encodeAAAA, encodeData, encodeTxt, type EchoDataType, type SrvData } from '../echo/encoding.js';
import { METHOD_INFO, dataFromEchoName, dataFromXyName, programmingName, retrievalName, type EchoMethod } from '../echo/methods.js';
import { namesEqual } from '../wire/name.js';
import { getRcode } from '../wire/message.js';
import { RRType, rcodeName, type Message, type ResourceRecord, type SRVRdata, type TXTRdata, type TargetRdata } from '../wire/types.js';
import type { Stub } from './stub.js';

export interface KvTarget {
  stub: Stub;
  /** The echo zone, absolute ("echo.lab."). */
  zone: string;
}

export interface KvSpec {
  method: EchoMethod;
  type: EchoDataType;
}

const QTYPE: Record<EchoDataType, number> = { A: RRType.A, AAAA: RRType.AAAA, TXT: RRType.TXT, SRV: RRType.SRV };

/** Values travel as text: A/AAAA an address, TXT the text, SRV "target:port". */
export function parseSrvValue(text: string): SrvData {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`expected an SRV value as TARGET:PORT, found ${JSON.stringify(text)}`);
  return { target: m[1]!.endsWith('.') ? m[1]! : m[1]! + '.', port };
}

function formatSrv(d: SrvData | SRVRdata): string {
  return `${d.target.replace(/\.$/, '')}:${d.port}`;
}

/** The data labels a method carries for `value` (typed by the query type, an address, or free text). */
export function dataLabels(spec: KvSpec, value: string): string[] {
  switch (METHOD_INFO[spec.method].data) {
    case 'typed':
      return spec.type === 'SRV' ? encodeData('SRV', parseSrvValue(value)) : encodeData(spec.type, value);
    case 'address':
      return value.includes(':') ? encodeAAAA(value) : encodeA(value);
    case 'labels':
      return encodeTxt(value);
  }
}

/** The programming query (name and type) that stores `value` under `key` (seed §2.3: data.method.alias.@). */
export function programmingQuery(spec: KvSpec, zone: string, key: string, value: string): { name: string; type: number } {
  const name = programmingName(spec.method, dataLabels(spec, value), key, zone);
  // NA/NR carry an address; the query type is immaterial to the *U methods (§2.5.2) but A is the usual.
  return { name, type: METHOD_INFO[spec.method].data === 'address' ? RRType.A : QTYPE[spec.type] };
}

/** The retrieving query: alias.@, sub.alias.@ under a DNAME (§2.7.1), or alias.@ NS for NA/NU (§2.8). */
export function retrievalQuery(spec: KvSpec, zone: string, key: string, sub = 'x'): { name: string; type: number } {
  const info = METHOD_INFO[spec.method];
  const name = retrievalName(spec.method, key, zone, sub);
  if (info.retrieve === 'ns') return { name, type: RRType.NS };
  return { name, type: info.data === 'address' ? RRType.A : QTYPE[spec.type] };
}

/** Follows CNAMEs from `qname` through the answer section; returns every name on the chain. */
function chain(msg: Message, qname: string): string[] {
  const names = [qname];
  for (let i = 0; i < 16; i++) {
    const cur = names[names.length - 1]!;
    const c = msg.answers.find((r) => r.type === RRType.CNAME && namesEqual(r.name, cur));
    if (!c) break;
    names.push((c.data as TargetRdata).target);
  }
  return names;
}

function rdataValue(type: EchoDataType, rr: ResourceRecord): string {
  switch (type) {
    case 'A':
    case 'AAAA':
      return (rr.data as { address: string }).address;
    case 'TXT':
      return (rr.data as TXTRdata).strings.map((s) => new TextDecoder().decode(s)).join('');
    case 'SRV':
      return formatSrv(rr.data as SRVRdata);
  }
}

function addressFromLabels(labels: string[] | undefined): string | undefined {
  if (!labels) return undefined;
  return decodeData('A', labels) ?? decodeData('AAAA', labels);
}

/**
 * Reads the stored value out of a resolver's answer to `qname` for `spec`, or undefined when the answer
 * does not carry it. Works for retrieving queries and for D* programming queries (§2.7.4).
 */
export function extractValue(spec: KvSpec, zone: string, key: string, qname: string, msg: Message): string | undefined {
  const info = METHOD_INFO[spec.method];
  const alias = `${key}.${zone === '.' ? '' : zone}`;
  if (info.retrieve === 'ns') {
    const ns = [...msg.answers, ...msg.authorities].find((r) => r.type === RRType.NS && namesEqual(r.name, alias));
    if (!ns) return undefined;
    const target = (ns.data as TargetRdata).target;
    if (info.data === 'address') return addressFromLabels(dataFromEchoName(target, zone));
    const labels = dataFromXyName(target);
    return labels ? decodeTxt(labels) : undefined;
  }
  const names = chain(msg, qname);
  if (info.data === 'labels') {
    // The *U data is the .xy target (CU/CCU: data.xy., DU: *.00.data.xy. via the DNAME, §2.7.3).
    for (const n of names.slice(1).reverse()) {
      const labels = dataFromXyName(n);
      if (labels) return decodeTxt(labels);
    }
    const dname = msg.answers.find((r) => r.type === RRType.DNAME && namesEqual(r.name, alias));
    const labels = dname ? dataFromXyName((dname.data as TargetRdata).target) : undefined;
    return labels ? decodeTxt(labels) : undefined;
  }
  const type: EchoDataType = info.data === 'address' ? (msg.questions[0]?.type === RRType.AAAA ? 'AAAA' : 'A') : spec.type;
  const last = names[names.length - 1]!;
  const rr = msg.answers.find((r) => r.type === QTYPE[type] && namesEqual(r.name, last));
  return rr ? rdataValue(type, rr) : undefined;
}

export interface PutResult {
  query: { name: string; type: number };
  rcode: string;
  /** What the resolver answered the programming query with, read as a stored value (D*: §2.7.4). */
  answered: string | undefined;
}

export async function kvPut(t: KvTarget, spec: KvSpec, key: string, value: string): Promise<PutResult> {
  const query = programmingQuery(spec, t.zone, key, value);
  const r = await t.stub.query(query.name, query.type);
  return { query, rcode: rcodeName(getRcode(r.message)), answered: extractValue(spec, t.zone, key, query.name, r.message) };
}

export interface GetResult {
  query: { name: string; type: number };
  rcode: string;
  value: string | undefined;
}

/** `sub` is the label asked below a DNAME alias; pass a fresh one so no earlier answer is reused. */
export async function kvGet(t: KvTarget, spec: KvSpec, key: string, sub = 'x'): Promise<GetResult> {
  const query = retrievalQuery(spec, t.zone, key, sub);
  const r = await t.stub.query(query.name, query.type);
  return { query, rcode: rcodeName(getRcode(r.message)), value: extractValue(spec, t.zone, key, query.name, r.message) };
}

export interface IfAbsentResult {
  /** The value the key holds afterwards. */
  value: string | undefined;
  /** True when this call's value was stored (it was absent). */
  stored: boolean;
  /** 'atomic': one D* programming query (§2.7.4); 'get-then-put': two steps, not atomic. */
  how: 'atomic' | 'get-then-put';
}

/**
 * Retrieve-or-store. With DA/DX/DU the programming query itself does it (seed §2.7.4): a cached DNAME
 * for the alias rewrites the query, so the answer carries the old value; otherwise ours is stored.
 */
export async function kvPutIfAbsent(t: KvTarget, spec: KvSpec, key: string, value: string): Promise<IfAbsentResult> {
  if (METHOD_INFO[spec.method].retrieve === 'sub') {
    const put = await kvPut(t, spec, key, value);
    const now = put.answered ?? (await kvGet(t, spec, key, `q${Date.now().toString(36)}`)).value;
    return { value: now, stored: now === normalise(spec, value), how: 'atomic' };
  }
  const before = await kvGet(t, spec, key);
  if (before.value !== undefined) return { value: before.value, stored: false, how: 'get-then-put' };
  await kvPut(t, spec, key, value);
  const after = await kvGet(t, spec, key);
  return { value: after.value, stored: after.value === normalise(spec, value), how: 'get-then-put' };
}

/** The value as it reads back (canonical address text, SRV without the trailing dot). */
export function normalise(spec: KvSpec, value: string): string {
  const info = METHOD_INFO[spec.method];
  if (info.data === 'labels') return value;
  if (info.data === 'address') return addressFromLabels(dataLabels(spec, value)) ?? value;
  if (spec.type === 'SRV') return formatSrv(parseSrvValue(value));
  if (spec.type === 'TXT') return value;
  return (decodeData(spec.type, encodeData(spec.type, value)) as string | undefined) ?? value;
}
