// Stateless DNS methods (seed 003 §2.3–2.8): their names, what each stores, and the query names that use them.
//
// API (names are absolute presentation names, e.g. "mynotebook.echo.lab."; labels as encoding.ts makes them):
//   METHODS, isMethod(label), METHOD_INFO[m]     the twelve methods and how each is retrieved
//   programmingName(m, data, alias, zone)        data.M.alias.@  (seed §2.3; M written lower-case)
//   echoName(data, zone)                         data.00.@       (seed §2.3, the echo domain)
//   retrievalName(m, alias, zone, sub?)          alias.@, or sub.alias.@ for the D* methods (§2.7.1)
//   retrievalQtype(m, dataType)                  the type to ask when retrieving (NU: NS, §2.8.2)
//   dataFromEchoName(name, zone)                 "*.00.data.00.@" → data labels (§2.3, §2.7.1)
//   dataFromXyName(name)                         "data.xy." or "*.00.data.xy." → data labels (§2.5.2, §2.7.3)
//   alias rules: one label (§3.1.2), not "00"; every builder throws EchoEncodingError on bad input.
import { parseName, splitLabels, isSubdomain, relativeName } from '../wire/name.js';
import { checkDataLabels, EchoEncodingError, ECHO_DELIMITER, type EchoDataType } from './encoding.js';

export const METHODS = ['a', 'ca', 'cu', 'cca', 'ccx', 'ccu', 'da', 'dx', 'du', 'na', 'nu', 'nr'] as const;
export type EchoMethod = (typeof METHODS)[number];

const METHOD_SET: ReadonlySet<string> = new Set(METHODS);

/** Case-insensitive (seed §2.5.1 prints "CA" queried, "ca" answered). */
export function isMethod(label: string): boolean {
  return METHOD_SET.has(label.toLowerCase());
}

export function toMethod(label: string): EchoMethod | undefined {
  const l = label.toLowerCase();
  return METHOD_SET.has(l) ? (l as EchoMethod) : undefined;
}

/** The TLD the *U methods point at (seed §2.5.2: ISO 3166 private-use, never delegated). */
export const XY_TLD = 'xy.';

export interface MethodInfo {
  /** Seed section that defines it. */
  readonly section: string;
  /**
   * typed: the data is an A/AAAA/TXT/SRV value chosen by the query type;
   * address: an IPv4/IPv6 address of a name server (NA, NR);
   * labels: any labels, stored as a name under .xy (the *U methods).
   */
  readonly data: 'typed' | 'address' | 'labels';
  /**
   * alias: ask alias.@; sub: ask any name below alias.@ (a DNAME applies below its owner only, §2.7.1);
   * ns: ask alias.@ NS (the delegation, §2.8.1–2.8.2); none: the method stores nothing under the alias (CU).
   */
  readonly retrieve: 'alias' | 'sub' | 'ns' | 'none';
}

export const METHOD_INFO: Readonly<Record<EchoMethod, MethodInfo>> = {
  a: { section: '2.4', data: 'typed', retrieve: 'alias' },
  ca: { section: '2.5.1', data: 'typed', retrieve: 'alias' },
  cu: { section: '2.5.2', data: 'labels', retrieve: 'none' },
  cca: { section: '2.6.1', data: 'typed', retrieve: 'alias' },
  ccx: { section: '2.6.2', data: 'typed', retrieve: 'alias' },
  ccu: { section: '2.6.3', data: 'labels', retrieve: 'alias' },
  da: { section: '2.7.1', data: 'typed', retrieve: 'sub' },
  dx: { section: '2.7.2', data: 'typed', retrieve: 'sub' },
  du: { section: '2.7.3', data: 'labels', retrieve: 'sub' },
  na: { section: '2.8.1', data: 'address', retrieve: 'ns' },
  nu: { section: '2.8.2', data: 'labels', retrieve: 'ns' },
  nr: { section: '2.8.3', data: 'address', retrieve: 'alias' },
};

function absolute(zone: string): string {
  try {
    return parseName(zone.endsWith('.') ? zone : zone + '.');
  } catch (e) {
    throw new EchoEncodingError(`expected a zone name, found ${JSON.stringify(zone)}: ${(e as Error).message}`);
  }
}

function checkAlias(alias: string): void {
  if (alias.length === 0 || splitLabels(alias + '.').length !== 1) throw new EchoEncodingError(`an alias is one label, found ${JSON.stringify(alias)}`);
  if (alias.toLowerCase() === ECHO_DELIMITER) throw new EchoEncodingError(`the alias "${ECHO_DELIMITER}" is the echo domain`);
}

function join(labels: readonly string[], zone: string): string {
  try {
    return parseName(labels.join('.') + '.' + (zone === '.' ? '' : zone));
  } catch (e) {
    throw new EchoEncodingError(`the name does not fit: ${(e as Error).message}`);
  }
}

/** data.M.alias.@ — the programming query (seed §2.3). */
export function programmingName(method: EchoMethod, data: readonly string[], alias: string, zone: string): string {
  checkDataLabels(data);
  checkAlias(alias);
  return join([...data, method, alias], absolute(zone));
}

/** data.00.@ — the echo domain (seed §2.3). */
export function echoName(data: readonly string[], zone: string): string {
  checkDataLabels(data);
  return join([...data, ECHO_DELIMITER], absolute(zone));
}

/** The name that retrieves what `method` stored under `alias`; `sub` is the label used below a DNAME. */
export function retrievalName(method: EchoMethod, alias: string, zone: string, sub = 'x'): string {
  checkAlias(alias);
  const z = absolute(zone);
  return METHOD_INFO[method].retrieve === 'sub' ? join([sub, alias], z) : join([alias], z);
}

/** The query type of the retrieval: NS for the delegation methods NA and NU, else the data's own type. */
export function retrievalQtype(method: EchoMethod, dataType: EchoDataType): EchoDataType | 'NS' {
  return METHOD_INFO[method].retrieve === 'ns' ? 'NS' : dataType;
}

/** Labels of `name` left of `zone` (leftmost first), or undefined when it is not inside it. */
export function labelsBelow(name: string, zone: string): string[] | undefined {
  const z = absolute(zone);
  if (!isSubdomain(name, z)) return undefined;
  const rel = relativeName(name, z);
  return rel === '@' ? [] : splitLabels(rel + '.');
}

/**
 * Data labels of a name in the echo domain: the labels between the last "00" and the one before it
 * (seed §2.3: anything left of a further ".00." is ignored). undefined when not in the echo domain.
 */
export function dataFromEchoName(name: string, zone: string): string[] | undefined {
  const rel = labelsBelow(name, zone);
  if (!rel) return undefined;
  return dataBeforeDelimiter(rel);
}

/** The data of a *U target: "data.xy." (CU, CCU, NU) or "anything.00.data.xy." (DU, §2.7.3). */
export function dataFromXyName(name: string): string[] | undefined {
  const labels = splitLabels(name.endsWith('.') ? name : name + '.');
  if (labels.length < 2 || labels[labels.length - 1]!.toLowerCase() !== 'xy') return undefined;
  const rel = labels.slice(0, -1);
  const d = rel.map((l) => l.toLowerCase()).lastIndexOf(ECHO_DELIMITER);
  const data = d < 0 ? rel : rel.slice(d + 1);
  return data.length > 0 ? data : undefined;
}

/** Shared by the server's parser: rel ends in "00"; the data sits between it and the previous "00". */
export function dataBeforeDelimiter(rel: readonly string[]): string[] | undefined {
  if (rel.length === 0 || rel[rel.length - 1]!.toLowerCase() !== ECHO_DELIMITER) return undefined;
  const inner = rel.slice(0, -1);
  const prev = inner.map((l) => l.toLowerCase()).lastIndexOf(ECHO_DELIMITER);
  return prev < 0 ? inner : inner.slice(prev + 1);
}
