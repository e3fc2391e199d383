// The zone-compiling thread, started by the loader's relay thread (load-worker.ts): parses, checks and
// compiles zone files at the lowest priority and sends the compiled arrays back to the relay as
// transferred ArrayBuffers (no copy).
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { LoaderReply, LoaderRequest } from './loader.js';
import { transferList } from './transfer-list.js';

// This thread yields to the serving thread when both want the CPU (a server pinned to one core runs
// both there): Linux applies a nice value to one thread when given its thread id.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
} catch {
  // Not Linux, or no /proc: the thread runs at the process's priority.
}

// Read the parser's modules only now, at the lower priority: compiling them at the thread's start
// took the serving thread's core for ~0.2 s on a loaded machine (the first reload's answer gap).
const { compileZoneFile } = await import('./load.js');

parentPort!.on('message', (req: LoaderRequest) => {
  let reply: LoaderReply;
  try {
    reply = { id: req.id, result: compileZoneFile(req.name, req.file, req.opts) };
    // The file's hash for the primary role's "unchanged file" test (transfer/primary.ts), taken here
    // from the bytes the load read rather than on the serving thread: hashing a 30 MB file there
    // stalled answers for ~0.4 s.
    if (reply.result.ok) reply.fileHash = reply.result.fileHash;
  } catch (e) {
    // A bug, not a bad file: the caller reports it and keeps the old zone.
    reply = { id: req.id, result: { ok: false, problems: [`${req.file}: cannot load zone ${req.name}: ${(e as Error).stack ?? e}`] } };
  }
  parentPort!.postMessage(reply, reply.result.ok ? transferList(reply.result.buffers) : []);
});

