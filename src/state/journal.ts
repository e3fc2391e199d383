// The in-memory store's disk copy: a snapshot plus an append-only journal, so that a restart (even
// kill -9) keeps every acknowledged lease (issue 14: an address still cached by one resolver must
// not be leased to another after a crash).
//
// Files: FILE holds one JSON record per line (the state at the last compaction), FILE.journal the
// changes since. A claim is written and fdatasync-ed before claim() resolves, so before the DNS
// answer leaves; concurrent claims share one write and one sync (group commit). Sources are
// journalled without waiting (losing the last ones only costs a seen host its grace).
import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, existsSync, mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Lease } from './store.js';

export type JournalRecord =
  | { op: 'lease'; lease: Lease; sources?: string[] }
  | { op: 'release'; id: string }
  | { op: 'source'; id: string; source: string }
  | { op: 'purge'; id: string };

/** Compact (rewrite the snapshot, empty the journal) after this many journal records. */
const COMPACT_AFTER = 20_000;

export class Journal {
  private fh?: FileHandle;
  private pending: { line: string; sync: boolean; done: (e?: Error) => void }[] = [];
  private flushing = false;
  private records = 0;

  private constructor(
    readonly file: string,
    /** The whole state as records, for compaction. */
    private readonly snapshot: () => JournalRecord[],
  ) {}

  /**
   * Reads FILE and FILE.journal (a torn last line from a crash is skipped), calls `replay` for each
   * record in order, then compacts: the replayed state becomes the new snapshot.
   */
  static async open(file: string, replay: (r: JournalRecord) => void, snapshot: () => JournalRecord[]): Promise<Journal> {
    mkdirSync(dirname(file), { recursive: true });
    for (const f of [file, `${file}.journal`]) {
      if (!existsSync(f)) continue;
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        let r: JournalRecord;
        try {
          r = JSON.parse(line) as JournalRecord;
        } catch (e) {
          // Only the last line may be torn (a write cut by a crash); anything else is corruption.
          if (i >= lines.length - 2) return;
          throw new Error(`${f}:${i + 1}: not a state record: ${(e as Error).message}`);
        }
        replay(r);
      });
    }
    const j = new Journal(file, snapshot);
    await j.compact();
    return j;
  }

  /**
   * Appends a record. With `sync` resolves once it is on disk (fdatasync; rejects when it is not);
   * without, once it is written (it survives a crash of the process, not of the machine), never rejecting.
   */
  append(r: JournalRecord, sync: boolean): Promise<void> {
    const line = JSON.stringify(r) + '\n';
    return new Promise((resolve, reject) => {
      this.pending.push({ line, sync, done: (e) => (e && sync ? reject(e) : resolve()) });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.fh) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          await this.fh.write(batch.length === 1 ? batch[0]!.line : batch.map((b) => b.line).join(''));
          // Group commit: one fdatasync for every claim that arrived meanwhile; none when no record asks for it.
          if (batch.some((b) => b.sync)) await this.fh.datasync();
          for (const b of batch) b.done();
        } catch (e) {
          for (const b of batch) b.done(new Error(`state file ${this.file}.journal: ${(e as Error).message}`));
        }
        this.records += batch.length;
        if (this.records >= COMPACT_AFTER) await this.compact();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Writes the snapshot to FILE.tmp, syncs, renames it over FILE, and starts an empty journal. */
  private async compact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      const text = this.snapshot().map((r) => JSON.stringify(r) + '\n').join('');
      if (text) writeSync(fd, text);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    // The rename itself must be durable before the old journal is emptied.
    const dfd = openSync(dirname(this.file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    await this.fh?.close();
    this.fh = await open(`${this.file}.journal`, 'w');
    await this.fh.datasync();
    this.records = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh?.close();
    this.fh = undefined;
  }
}
