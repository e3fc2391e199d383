// The shape of a query's cookie verdict; its own file so the query context can hold it in a typed field
// (cookies/state.ts computes it and imports the context).

/**
 * valid: the query carried a server cookie we issued to this client address (RFC 7873 §5.2.5), so
 * its source address is not spoofed. invalid: a client cookie without a valid server cookie
 * (§5.2.3, §5.2.4 aside). absent: no COOKIE option (§5.2.1). Unset when `cookies.mode` is off.
 */
export type CookieStatus = 'valid' | 'invalid' | 'absent';

export interface CookieFacts {
  readonly status: CookieStatus;
  /** The query's server cookie was present (valid or not). */
  readonly serverSent: boolean;
  /** The server cookie to return with the client cookie; unset without a client cookie. */
  readonly reply?: Uint8Array;
}
