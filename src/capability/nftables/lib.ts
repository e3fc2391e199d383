// nftables through libnftables in this process (native/nft_lib.c): one transaction at a time on
// libuv's thread pool, no nft process and no pipe; NftShell (shell.ts) is the fallback. NftNetlink:
// the same addon's raw netlink path for set-element batches (netlink.ts), the grant's hot path.
//
// Same contract as NftShell.run: the commands of one call are one transaction, the promise resolves
// once the kernel committed it and rejects with nft's error text otherwise. Calls made while one is
// in flight wait in order (the backend merges them into its next transaction before they get here).
import { createRequire } from 'node:module';
import { batchMessage, encodeBatch, type NlOp } from './netlink.js';
import type { NftFamily } from './ruleset.js';
import { NftError } from './shell.js';

interface NativeNft {
  open(netnsPath?: string): unknown;
  run(handle: unknown, commands: string, json: boolean, cb: (rc: number, out: string, err: string) => void): void;
  close(handle: unknown): void;
  nlOpen?(netnsPath?: string): unknown;
  nlRun?(handle: unknown, batch: Uint8Array, seq0: number, seqCount: number, acks: number, cb: (sysError: string, errors: Array<[number, number, string]>, acks: number) => void): void;
  nlClose?(handle: unknown): void;
}

let loaded: { addon?: NativeNft; error?: string } | undefined;

/** The addon, or why it is not available (not built, not Linux). Tried once per process. */
export function loadNativeNft(): { addon?: NativeNft; error?: string } {
  if (loaded) return loaded;
  try {
    const require = createRequire(import.meta.url);
    loaded = { addon: require('../../../native/build/Release/fluxdns_nft.node') as NativeNft };
  } catch (e) {
    loaded = { error: (e as Error).message.split('\n')[0] };
  }
  return loaded;
}

/** FLUXDNS_NFT_TRACE=1 prints every transaction and nft's errors on stderr. */
const TRACE = process.env['FLUXDNS_NFT_TRACE'] === '1';

interface Job {
  text: string;
  json: boolean;
  resolve: (out: string) => void;
  reject: (e: Error) => void;
}

export class NftLib {
  private handle: unknown;
  private queue: Job[] = [];
  private busy = false;
  private closed = false;
  private idle?: () => void;

  /** Throws when libnftables cannot be loaded or the namespace entered. */
  constructor(private readonly addon: NativeNft, netns?: string) {
    this.handle = addon.open(netns ? `/var/run/netns/${netns}` : undefined);
  }

  /** Runs `commands` as one transaction; resolves once the kernel committed it. */
  async run(commands: readonly string[]): Promise<void> {
    const text = commands.join('\n');
    await this.submit(text, false);
  }

  /** A `list …` command's JSON output, parsed. */
  async json(command: string): Promise<unknown> {
    return JSON.parse((await this.submit(command, true)) || '{}') as unknown;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new NftError('nft closed'));
    if (this.busy) await new Promise<void>((r) => (this.idle = r));
    this.addon.close(this.handle);
  }

  private submit(text: string, json: boolean): Promise<string> {
    if (this.closed) return Promise.reject(new NftError('nft closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ text, json, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    const j = this.queue.shift()!;
    this.busy = true;
    if (TRACE) process.stderr.write(`nft< ${j.text.replace(/\n/g, '; ')}\n`);
    this.addon.run(this.handle, j.text, j.json, (rc, out, err) => {
      this.busy = false;
      if (TRACE && err) process.stderr.write(`nft> ${err}`);
      if (rc === 0) j.resolve(out);
      else j.reject(new NftError(errorText(err) || `nft failed (${rc})`));
      if (this.closed) this.idle?.();
      else this.pump();
    });
  }
}

/** nft's error lines ("Error: …"), without the echoed command and the caret line under it. */
function errorText(err: string): string {
  const lines = err.split('\n').filter((l) => l.startsWith('Error: ')).map((l) => l.slice(7));
  return (lines.length ? lines : err.split('\n').filter((l) => l.trim())).join('; ');
}

/**
 * Set-element transactions over one NETLINK_NETFILTER socket (native/nft_lib.c nlRun): each batch
 * is sent with one sendmsg on libuv's thread pool and resolves once the kernel acknowledged every
 * message of it (NLM_F_ACK), i.e. committed the transaction; it rejects with the kernel's error
 * ("add element inet fluxdns caps_src: File exists") otherwise. One batch at a time, in order.
 */
export class NftNetlink {
  private readonly handle: unknown;
  private readonly nlRun: NonNullable<NativeNft['nlRun']>;
  private seq = 1;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Throws when the addon has no netlink path or the socket cannot be opened in the namespace. */
  constructor(private readonly addon: NativeNft, private readonly family: NftFamily, private readonly table: string, netns?: string) {
    if (!addon.nlOpen || !addon.nlRun) throw new Error('the fluxdns_nft addon has no netlink path (rebuild native/)');
    this.nlRun = addon.nlRun.bind(addon);
    this.handle = addon.nlOpen(netns ? `/var/run/netns/${netns}` : undefined);
  }

  /**
   * Sends `ops` as one transaction. The batch is encoded when its turn comes, into the encoder's
   * reused buffer, and copied by nlRun before the next one is encoded; what netlink cannot express
   * rejects with NlEncodeError before anything of the batch is sent.
   */
  run(ops: readonly NlOp[]): Promise<void> {
    if (this.closed) return Promise.reject(new NftError('netlink closed'));
    const p = this.tail.then(() => this.send(ops));
    this.tail = p.catch(() => {});
    return p;
  }

  private send(ops: readonly NlOp[]): Promise<void> {
    const batch = encodeBatch(this.family, this.table, ops, this.seq);
    this.seq = (this.seq + batch.count) % 0x40000000 || 1;
    const { seq0, acks } = batch;
    if (TRACE) process.stderr.write(`nl< ${ops.map((o) => `${o.kind} element ${o.set}`).join('; ')} (${batch.bytes.length} bytes)\n`);
    return new Promise((resolve, reject) => {
      this.nlRun(this.handle, batch.bytes, seq0, batch.count, acks, (sys, errors, got) => {
        if (errors.length) {
          const text = errors.map(([seq, , msg]) => `${batchMessage(batch, this.family, this.table, seq) ?? (seq === seq0 ? 'batch' : `message ${seq - seq0}`)}: ${msg}`).join('; ');
          if (TRACE) process.stderr.write(`nl> ${text}\n`);
          reject(new NftError(text));
        } else if (sys) reject(new NftError(`netlink: ${sys}`));
        else if (got < acks) reject(new NftError(`netlink: ${got} of ${acks} messages acknowledged`));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    this.addon.nlClose?.(this.handle);
  }
}
