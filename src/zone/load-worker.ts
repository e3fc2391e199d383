// The zone loader's relay thread: the serving thread talks to it, and it hands each request to the
// compiling thread (load-compile.ts, nice 19) and each reply back. A compiled zone travels as the port
// of a channel with the zone waiting in it, passed on unread: shared memory read here would stay
// until this thread's next garbage collection, which its few allocations make rare.
//
// Why a relay: a postMessage holds the receiving port's mutex while it wakes the receiver. When the
// nice-19 compiler posted its result straight to the serving thread, the serving thread woke at once
// (it has the higher priority), preempted the poster inside that mutex, and blocked on the same mutex
// in its message handler until the nice-19 thread got the CPU back: that is as long as any ordinary
// thread keeps the core busy (5 s at load 17 with the serving thread real-time; on a quiet machine, as
// long as the GC helper threads run). The relay runs at the process's priority, so the serving thread
// only ever waits for a thread of its own priority, for the few microseconds of a post.
import { parentPort } from 'node:worker_threads';
import type { LoaderReply, LoaderRequest } from './loader.js';
import { startModuleThread } from './thread.js';

const compiler = startModuleThread(import.meta.url, 'load-compile');
parentPort!.on('message', (req: LoaderRequest) => compiler.postMessage(req));
compiler.on('message', (reply: LoaderReply) => parentPort!.postMessage(reply, reply.result.ok ? [reply.result.zone] : []));
// The compiler's failure is this thread's: the serving thread's loader sees the error or the exit.
compiler.on('error', (e) => {
  throw e;
});
compiler.on('exit', (code) => process.exit(code));
