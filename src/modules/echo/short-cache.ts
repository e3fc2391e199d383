// Short-time caching (seed 003 §2.9): an alias's last programming query, kept until its first retrieval,
// or until it is older than maxAge or pushed out by maxEntries newer ones. The clock is injected.
import type { EchoMethod } from '../../echo/methods.js';

export interface StoredProgram {
  readonly method: EchoMethod;
  /** Data labels as they came in the programming query (presentation form). */
  readonly data: readonly string[];
  /** The alias label as it was asked (its case is reused for owner names). */
  readonly alias: string;
}

interface Entry {
  readonly program: StoredProgram;
  readonly at: number;
}

export class ShortTimeCache {
  /** Insertion order is age order: a store for an alias already present moves it to the end. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly maxEntries: number,
    readonly maxAgeMs: number,
  ) {}

  store(program: StoredProgram, now: number): void {
    const key = program.alias.toLowerCase();
    this.entries.delete(key);
    this.entries.set(key, { program, at: now });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The stored program for `alias`, unless it has expired (expired entries are dropped on the way). */
  peek(alias: string, now: number): StoredProgram | undefined {
    this.expire(now);
    return this.entries.get(alias.toLowerCase())?.program;
  }

  /** Forgets `alias`: its data has been retrieved once (seed §2.9). */
  consume(alias: string): void {
    this.entries.delete(alias.toLowerCase());
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(now: number): void {
    for (const [key, e] of this.entries) {
      if (now - e.at < this.maxAgeMs) break;
      this.entries.delete(key);
    }
  }
}
