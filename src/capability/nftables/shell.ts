// One long-lived `nft -i` process: each batch is one transaction, confirmed before its promise resolves.
//
// A fresh nft per update costs ≈ 2.5 ms, a command to a running `nft -i` ≈ 1 ms (../shared/NOTES.md).
// nft -i prints nothing for a successful transaction and "Error: …" for a failed one, so every batch
// line is followed by a `describe` line, which always prints: once its output arrives, the batch was
// committed unless an error came before it. stderr is joined to stdout (2>&1) so that order is kept.
// Echo mode (-e) is not used: nft 1.0.6 echoes interval-map elements slowly and garbled.
import { spawn, type ChildProcess } from 'node:child_process';

export class NftError extends Error {}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

const DESCRIBE = 'describe ct mark';
const DESCRIBE_OUT = /^ct expression, datatype mark/;
/** FLUXDNS_NFT_TRACE=1 prints every transaction and nft's output on stderr. */
const TRACE = process.env['FLUXDNS_NFT_TRACE'] === '1';

export interface NftShellOptions {
  /** argv that runs a program in the right namespace: [] (here) or ["ip", "netns", "exec", NS]. */
  prefix: readonly string[];
  onExit?: (message: string) => void;
}

export class NftShell {
  private child?: ChildProcess;
  private queue: Pending[] = [];
  private inFlight?: Pending;
  private buf = '';
  private errors: string[] = [];
  private closed = false;

  constructor(private readonly o: NftShellOptions) {}

  /** Runs `commands` as one transaction; resolves once nft committed it, rejects with nft's error. */
  run(commands: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new NftError('nft shell closed'));
    return new Promise((resolve, reject) => {
      const line = commands.join('; ');
      if (/[\n\r]/.test(line)) return reject(new NftError('nft command with a line break'));
      this.queue.push({ line, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.child;
    this.child = undefined;
    this.failAll(new NftError('nft shell closed'));
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.stdin?.end();
    const t = setTimeout(() => c.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }

  private ensure(): ChildProcess {
    if (this.child && this.child.exitCode === null) return this.child;
    const [cmd, ...args] = [...this.o.prefix, 'sh', '-c', 'exec nft -i 2>&1'];
    const c = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child = c;
    this.buf = '';
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (d: string) => this.onData(d));
    c.stdin!.on('error', () => {});
    const died = (why: string) => {
      if (this.child !== c) return;
      this.child = undefined;
      const msg = `nft exited (${why})${this.errors.length ? ': ' + this.errors.join('; ') : ''}`;
      this.o.onExit?.(msg);
      this.failAll(new NftError(msg));
    };
    c.once('error', (e) => died(e.message));
    c.once('exit', (code, sig) => died(`code ${String(code)}, signal ${String(sig)}`));
    return c;
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || this.closed) return;
    const p = this.queue.shift()!;
    let c: ChildProcess;
    try {
      c = this.ensure();
    } catch (e) {
      p.reject(new NftError(`cannot start nft: ${(e as Error).message}`));
      return this.pump();
    }
    this.inFlight = p;
    this.errors = [];
    if (TRACE) process.stderr.write(`nft< ${p.line}\n`);
    c.stdin!.write(`${p.line}\n${DESCRIBE}\n`);
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (TRACE) process.stderr.write(`nft> ${line}\n`);
      if (line.startsWith('Error: ')) this.errors.push(line.slice(7));
      else if (DESCRIBE_OUT.test(line)) this.settle();
    }
  }

  private settle(): void {
    const p = this.inFlight;
    this.inFlight = undefined;
    if (p) {
      if (this.errors.length) p.reject(new NftError(this.errors.join('; ')));
      else p.resolve();
    }
    this.pump();
  }

  private failAll(e: Error): void {
    const all = [...(this.inFlight ? [this.inFlight] : []), ...this.queue];
    this.inFlight = undefined;
    this.queue = [];
    for (const p of all) p.reject(e);
  }
}
