// The AXFR writer's record loop in C (native/axfr_body.c), when the addon is built: each owner and RDATA
// is one memcpy instead of a JavaScript loop over its bytes. Without the addon (not built, not Linux)
// the writer keeps its JavaScript loop, which writes the same bytes (axfr-wire.test.ts checks both).
import { createRequire } from 'node:module';

/**
 * The C loop's state words (native/axfr_body.c's enum, same order): read and written back are the message
 * position, record count, apex pointer target, the cursor (node, set, record) and whether the message
 * filled; read only are the budget, the apex's length, the SOA's set and the node count.
 */
export const ST_POS = 0, ST_COUNT = 1, ST_APEX_AT = 2, ST_NODE = 3, ST_SET = 4, ST_RR = 5, ST_FULL = 6, ST_BUDGET = 7, ST_APEX_LEN = 8, ST_SOA_SET = 9, ST_NODE_COUNT = 10, ST_WORDS = 11;

export type AxfrBodyFn = (
  m: Uint8Array,
  state: Int32Array,
  names: Uint8Array,
  rdata: Uint8Array,
  nodeName: Int32Array,
  nodeFirstSet: Int32Array,
  nodeSets: Uint16Array,
  setType: Uint16Array,
  setTtl: Uint32Array,
  setFirstRr: Int32Array,
  setRrs: Int32Array,
  rrOff: Int32Array,
  rrLen: Uint16Array,
) => void;

let loaded: AxfrBodyFn | null | undefined;

/** The C loop, or null when the addon is not built (or FLUXDNS_NATIVE_AXFR=0 asks for the JavaScript one). */
export function nativeAxfrBody(): AxfrBodyFn | null {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.FLUXDNS_NATIVE_AXFR !== '0') {
      try {
        const addon = createRequire(import.meta.url)('../../native/build/Release/fluxdns_xfr.node') as { axfrBody?: AxfrBodyFn };
        loaded = addon.axfrBody ?? null;
      } catch {
        // Not built: the JavaScript loop.
      }
    }
  }
  return loaded;
}
