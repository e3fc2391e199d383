// What a query's TSIG (RFC 8945) says: the verdict the tsig module records and later modules read
// (capabilities with `require: tsig`, policies with `match.tsig`).

/**
 * valid: the query carried a TSIG whose key we hold, whose MAC verified and whose time was within the
 * fudge (RFC 8945 §5.2). absent: no TSIG record. bad: a TSIG that failed (`error` says how; the
 * query is answered NOTAUTH, so units after the guards normally see only valid or absent).
 */
export type TsigVerdict = 'valid' | 'absent' | 'bad';

/** TSIG error codes of RFC 8945 §3 (the TSIG RR's Error field). */
export const TsigError = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
export type TsigErrorName = keyof typeof TsigError;

export interface TsigStatus {
  readonly status: TsigVerdict;
  /** The key's name (absolute, lower case, e.g. "demo-key.") when a TSIG was present. */
  readonly keyName?: string;
  /** Why it was bad: a TSIG error, or FORMERR for a malformed TSIG (RFC 8945 §5.1). */
  readonly error?: TsigErrorName | 'FORMERR';
}

export const TSIG_ABSENT: TsigStatus = Object.freeze({ status: 'absent' });
