// The zone-compiling thread, started by the loader's relay thread (load-worker.ts): parses, checks and
// compiles zone files at the lowest priority. A compiled zone's arrays are copied into shared memory
// (shared-zone.ts says why) and posted into a channel made for that zone; the reply to the relay carries
// the channel's other port, so the relay forwards the zone to the serving thread without reading it.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import type { LoaderReply, LoaderRequest } from './loader.js';
import { shareZone } from './shared-zone.js';

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

async function answer(req: LoaderRequest): Promise<{ reply: LoaderReply; transfer: MessagePort[] }> {
  try {
    const result = compileZoneFile(req.name, req.file, req.opts);
    if (!result.ok) return { reply: { id: req.id, result }, transfer: [] };
    const { buffers, fileHash, ...rest } = result;
    const zone = new MessageChannel();
    // Posted before the port leaves this thread, and the sending side closed: the zone waits in the
    // port's queue, unread, until the serving thread reads it, and no thread but that one touches the
    // port afterwards (no post from this nice-19 thread into a port the serving thread reads).
    zone.port1.postMessage(await shareZone(buffers));
    zone.port1.close();
    // The file's hash for the primary role's "unchanged file" test (transfer/primary.ts), taken here
    // from the bytes the load read rather than on the serving thread: hashing a 30 MB file there
    // stalled answers for ~0.4 s.
    return { reply: { id: req.id, result: { ...rest, zone: zone.port2 }, fileHash }, transfer: [zone.port2] };
  } catch (e) {
    // A bug, not a bad file: the caller reports it and keeps the old zone.
    return { reply: { id: req.id, result: { ok: false, problems: [`${req.file}: cannot load zone ${req.name}: ${(e as Error).stack ?? e}`] } }, transfer: [] };
  }
}

// One request at a time, in order (shareZone yields to the event loop between its copies).
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (req: LoaderRequest) => {
  queue = queue.then(async () => {
    const { reply, transfer } = await answer(req);
    parentPort!.postMessage(reply, transfer);
  });
});
