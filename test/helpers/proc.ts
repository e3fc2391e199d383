// Starts child processes for tests, captures their output, waits for lines, and stops them by PID.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export type OutputMatcher = RegExp | ((output: string) => boolean);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Shown in error messages. Defaults to the command. */
  name?: string;
}

const registry = new Set<Proc>();

export class Proc {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  private out = '';
  private err = '';
  private exitInfo: ExitInfo | null = null;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(command: string, args: readonly string[], opts: StartOptions = {}) {
    this.name = opts.name ?? command;
    this.child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) {
      throw new Error(`${this.name}: spawn failed (${command} ${args.join(' ')})`);
    }
    this.pid = this.child.pid;
    this.child.stdout?.setEncoding('utf8');
    this.child.stderr?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => {
      this.out += d;
      this.notify();
    });
    this.child.stderr?.on('data', (d: string) => {
      this.err += d;
      this.notify();
    });
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        registry.delete(this);
        this.notify();
        resolve(this.exitInfo);
      });
      this.child.once('error', () => {
        if (!this.exitInfo) this.exitInfo = { code: null, signal: null };
        registry.delete(this);
        this.notify();
        resolve(this.exitInfo);
      });
    });
    registry.add(this);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  get exitStatus(): ExitInfo | null {
    return this.exitInfo;
  }

  /** Last part of stdout and stderr, for error messages. */
  describe(maxChars = 4000): string {
    const tail = (s: string): string => (s.length > maxChars ? '…' + s.slice(-maxChars) : s);
    const status = this.exitInfo
      ? `exited code=${String(this.exitInfo.code)} signal=${String(this.exitInfo.signal)}`
      : 'running';
    return `${this.name} (pid ${this.pid}, ${status})\n--- stdout ---\n${tail(this.out)}\n--- stderr ---\n${tail(this.err)}`;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /**
   * Resolves once the matcher accepts the collected output (stdout by default, or both streams
   * joined). Rejects on timeout or if the process exits first.
   */
  waitFor(matcher: OutputMatcher, timeoutMs: number, stream: 'stdout' | 'stderr' | 'both' = 'stdout'): Promise<void> {
    const text = (): string => (stream === 'stdout' ? this.out : stream === 'stderr' ? this.err : this.out + '\n' + this.err);
    const matches = (): boolean => (matcher instanceof RegExp ? matcher.test(text()) : matcher(text()));
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        if (matches()) finish();
        else if (this.exitInfo) finish(new Error(`${this.name} exited before output matched ${String(matcher)}\n${this.describe()}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${String(matcher)}\n${this.describe()}`)),
        timeoutMs,
      );
      this.listeners.add(check);
      check();
    });
  }

  /** SIGTERM by PID, then SIGKILL if it has not exited within graceMs. Resolves with the exit status. */
  async stop(graceMs = 3000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timedOut = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exited,
      new Promise<typeof timedOut>((resolve) => {
        timer = setTimeout(() => resolve(timedOut), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (r !== timedOut) return r;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return this.exited;
  }
}

/** Spawns a process and registers it so stopAll() (call it from an after() hook) stops it. */
export function startProcess(command: string, args: readonly string[], opts: StartOptions = {}): Proc {
  return new Proc(command, args, opts);
}

/** Stops every process started through this module that is still running. */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...registry].map((p) => p.stop(graceMs)));
}

/** Processes started and still running. */
export function runningProcesses(): Proc[] {
  return [...registry];
}

// Last resort if the test process exits without running its after() hooks.
process.once('exit', () => {
  for (const p of registry) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Polls `cond` every 50 ms until it holds or `timeoutMs` passes; returns whether it held (the caller asserts). */
export async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Runs a tool (kdig, nsupdate, ldns-verify-zone) to its end, with `input` on its stdin: its exit code and its stdout + stderr. */
export function runTool(bin: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 30000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: stdout + stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
