// Blocklists (seed 000 §2.1 "leveraging previous behavior"): files of CIDRs, re-read when they change.
import { statSync, readFileSync } from 'node:fs';
import { cidrContains, cidrCovers, parseCidrResult, type Address, type Cidr } from '../net/cidr.js';

export interface BlocklistLoad {
  prefixes: Cidr[];
  /** Lines that were not a prefix, "file:line: message" (logged; the rest of the file still counts). */
  errors: string[];
}

/** One CIDR or address per line; "#" starts a comment; blank lines are skipped. */
export function parseBlocklist(text: string, file: string): BlocklistLoad {
  const prefixes: Cidr[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const r = parseCidrResult(line, false);
    if (r.ok) prefixes.push(r.cidr);
    else errors.push(`${file}:${i + 1}: ${r.error}`);
  });
  return { prefixes, errors };
}

/**
 * The prefixes of a set of files, re-read at most every `checkMs` when a file's mtime or size
 * changed (a check per query would be a system call per query). A file that cannot be read keeps its
 * last good content and is reported once per change.
 */
export class Blocklists {
  private readonly files = new Map<string, { stamp: string; prefixes: Cidr[] }>();
  private checkedAt = -Infinity;

  constructor(
    readonly paths: readonly string[],
    private readonly now: () => number = Date.now,
    private readonly checkMs = 1000,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.refresh(true);
  }

  /** The blocked prefixes now (re-reads changed files when the check interval passed). */
  prefixes(): Cidr[] {
    this.refresh(false);
    const out: Cidr[] = [];
    for (const f of this.files.values()) out.push(...f.prefixes);
    return out;
  }

  /** A blocked prefix holding `addr`, if any. */
  blocks(addr: Address): Cidr | undefined {
    return this.prefixes().find((c) => cidrContains(c, addr));
  }

  /** A blocked prefix covering all of `subnet`, if any. */
  covers(subnet: Cidr): Cidr | undefined {
    return this.prefixes().find((c) => cidrCovers(c, subnet));
  }

  /** Blocked prefixes strictly inside `subnet`: exceptions to a lease for that subnet (§2.3). */
  inside(subnet: Cidr): Cidr[] {
    return this.prefixes().filter((c) => cidrCovers(subnet, c) && c.length > subnet.length);
  }

  private refresh(force: boolean): void {
    const t = this.now();
    if (!force && t - this.checkedAt < this.checkMs) return;
    this.checkedAt = t;
    for (const p of this.paths) {
      let stamp: string;
      try {
        const st = statSync(p);
        stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch (e) {
        stamp = `error:${(e as Error).message}`;
      }
      const known = this.files.get(p);
      if (known?.stamp === stamp) continue;
      try {
        const load = parseBlocklist(readFileSync(p, 'utf8'), p);
        for (const msg of load.errors) this.onError(msg);
        this.files.set(p, { stamp, prefixes: load.prefixes });
      } catch (e) {
        this.onError(`blocklist ${p}: ${(e as Error).message}`);
        this.files.set(p, { stamp, prefixes: known?.prefixes ?? [] });
      }
    }
  }
}
