// TSIG algorithms (RFC 8945 §6): the algorithm name on the wire and the node:crypto HMAC behind it.

export interface TsigAlgorithm {
  /** Absolute, lower case: the form compared with the TSIG RR's Algorithm Name. */
  readonly name: string;
  /** node:crypto digest name. */
  readonly hash: string;
  /** Full HMAC output length in bytes. */
  readonly size: number;
}

/** RFC 8945 §6: hmac-sha256 is mandatory to implement; the others are as BIND and Knot offer them. */
export const ALGORITHMS: readonly TsigAlgorithm[] = [
  { name: 'hmac-sha256.', hash: 'sha256', size: 32 },
  { name: 'hmac-sha512.', hash: 'sha512', size: 64 },
  { name: 'hmac-sha384.', hash: 'sha384', size: 48 },
  { name: 'hmac-sha224.', hash: 'sha224', size: 28 },
  { name: 'hmac-sha1.', hash: 'sha1', size: 20 },
];

/** The configuration's spelling (no final dot). */
export const ALGORITHM_NAMES = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

const byName = new Map(ALGORITHMS.map((a) => [a.name, a]));

/** Looks an algorithm up by its wire name (any case, with or without the final dot). */
export function algorithmByName(name: string): TsigAlgorithm | undefined {
  const lower = name.toLowerCase();
  return byName.get(lower.endsWith('.') ? lower : lower + '.');
}

/**
 * RFC 8945 §5.2.2.1: a MAC shorter than the HMAC output is a truncated one; it is acceptable when at
 * least max(10, half the output) bytes long and not longer than the output. Anything else is FORMERR.
 */
export function macSizeAcceptable(alg: TsigAlgorithm, size: number): boolean {
  return size <= alg.size && size >= Math.max(10, Math.ceil(alg.size / 2));
}
