// Large zone columns in transparent huge pages: an ArrayBuffer advised (MADV_HUGEPAGE) before its first write.
//
// Why: a million-record zone's build columns, arenas and index are ~135 MiB written once, and each first
// write to a 4 KiB page is a page fault. On the paravirtualised VMs fluxdns is measured on, a fault costs
// ~17 us of trap and page-table work (touching 136 MiB: ~0.5 s of CPU in 4 KiB pages, ~0.1-0.2 s in 2 MiB
// pages), about a fifth of the zone's load. Debian's THP setting is "madvise": only advised ranges get huge
// pages. The advice needs the native addon (native/udp_batch.c); without it buffers are plain, as before.
import { createRequire } from 'node:module';

/** Below this a buffer is not advised: it holds at most one whole 2 MiB page, and a small zone gains nothing. */
const MIN_BYTES = 4 << 20;

let advise: ((b: ArrayBuffer) => boolean) | null | undefined;

function adviser(): ((b: ArrayBuffer) => boolean) | null {
  if (advise === undefined) {
    advise = null;
    if (process.platform === 'linux' && process.env.FLUXDNS_HUGE_PAGES !== '0') {
      try {
        const addon = createRequire(import.meta.url)('../../native/build/Release/fluxdns_udp.node') as { adviseHugePages?: (b: ArrayBuffer) => boolean };
        advise = addon.adviseHugePages ?? null;
      } catch {
        // Not built: 4 KiB pages.
      }
    }
  }
  return advise;
}

/** A zeroed ArrayBuffer of `bytes`, in huge pages where it is large and the addon can ask for them. */
export function zoneBuffer(bytes: number): ArrayBuffer {
  const b = new ArrayBuffer(bytes);
  if (bytes >= MIN_BYTES) adviser()?.(b);
  return b;
}

/** Typed arrays of `n` elements on zoneBuffer. */
export const i32 = (n: number): Int32Array => new Int32Array(zoneBuffer(n * 4));
export const u32 = (n: number): Uint32Array => new Uint32Array(zoneBuffer(n * 4));
export const u16 = (n: number): Uint16Array => new Uint16Array(zoneBuffer(n * 2));
export const u8 = (n: number): Uint8Array => new Uint8Array(zoneBuffer(n));
