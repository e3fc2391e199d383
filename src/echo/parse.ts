// Reads a query name inside an echo zone as the seed's generic form data.method.alias.@ (seed 003 §2.3).
import { ECHO_DELIMITER } from './encoding.js';
import { dataBeforeDelimiter, labelsBelow, toMethod, type EchoMethod } from './methods.js';

export type EchoName =
  /** The zone apex: SOA and NS from configuration. */
  | { readonly kind: 'apex' }
  /** data.00.@ (data may be empty for 00.@ itself, which then has no records). */
  | { readonly kind: 'echo'; readonly data: readonly string[] }
  /** data.method.alias.@ with at least one data label. */
  | { readonly kind: 'program'; readonly method: EchoMethod; readonly data: readonly string[]; readonly alias: string }
  /**
   * Anything else under an alias: alias.@ itself (below is empty), a retrieval below it (sub.alias.@),
   * or a name whose method label is not a method. `ent` marks names that have names below them
   * (alias.@, method.alias.@), which are answered NODATA rather than NXDOMAIN (RFC 8020 §2).
   */
  | { readonly kind: 'alias'; readonly alias: string; readonly below: readonly string[]; readonly ent: boolean };

/** undefined when `name` is not inside `zone`. Labels stay in presentation form and their case. */
export function parseEchoName(name: string, zone: string): EchoName | undefined {
  const rel = labelsBelow(name, zone);
  if (!rel) return undefined;
  if (rel.length === 0) return { kind: 'apex' };
  const alias = rel[rel.length - 1]!;
  if (alias.toLowerCase() === ECHO_DELIMITER) return { kind: 'echo', data: dataBeforeDelimiter(rel) ?? [] };
  const below = rel.slice(0, -1);
  if (below.length === 0) return { kind: 'alias', alias, below, ent: true };
  const method = toMethod(below[below.length - 1]!);
  if (method && below.length > 1) return { kind: 'program', method, data: below.slice(0, -1), alias };
  // method.alias.@ has descendants (the programming names); NR's nr.alias.@ is one (§2.8.3 fn. 9).
  return { kind: 'alias', alias, below, ent: method !== undefined && below.length === 1 };
}
