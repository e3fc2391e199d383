// The zone loader's relay thread: the serving thread talks to it, and it hands each request to the
// compiling thread (load-compile.ts, nice 19) and each reply back; a compiled zone's arrays wait on
// the parts port until the serving thread asks for them, one part per ask (transferred, no copy).
//
// Why a relay: a postMessage holds the receiving port's mutex while it wakes the receiver. When the
// nice-19 compiler posted its result straight to the serving thread, the serving thread woke at once
// (it has the higher priority), preempted the poster inside that mutex, and blocked on the same mutex
// in its message handler until the nice-19 thread got the CPU back: that is as long as any ordinary
// thread keeps the core busy (5 s at load 17 with the serving thread real-time; on a quiet machine, as
// long as the GC helper threads run). The relay runs at the process's priority, so the serving thread
// only ever waits for a thread of its own priority, for the few microseconds of a post.
//
// Why parts on a port read with receiveMessageOnPort: a message is only deserialised (its buffers
// counted as this thread's external memory) when read, so the relay holds one part at a time — a
// whole zone held here set off a garbage collection in this thread too, on the serving thread's core.
import { MessageChannel, parentPort, receiveMessageOnPort } from 'node:worker_threads';
import type { LoaderPart, LoaderReply, ToLoader } from './loader.js';
import { startModuleThread } from './thread.js';
import { transferList } from './transfer-list.js';

const parts = new MessageChannel();
const compiler = startModuleThread(import.meta.url, 'load-compile', { workerData: { parts: parts.port2 }, transferList: [parts.port2] });
parentPort!.on('message', (m: ToLoader) => {
  if (!('pull' in m)) return compiler.postMessage(m);
  // The oldest part (the compiler queues a zone's parts before its reply, and the serving thread
  // asks for a zone's parts in the order of the replies); none is a lost part, told as id -1.
  const part = receiveMessageOnPort(parts.port1)?.message as LoaderPart | undefined;
  if (part) parentPort!.postMessage(part, transferList(part.part ?? {}));
  else parentPort!.postMessage({ id: -1 } satisfies LoaderPart);
});
compiler.on('message', (reply: LoaderReply) => parentPort!.postMessage(reply));
// The compiler's failure is this thread's: the serving thread's loader sees the error or the exit.
compiler.on('error', (e) => {
  throw e;
});
compiler.on('exit', (code) => process.exit(code));
