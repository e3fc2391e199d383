// The zone-compiling thread, started by the loader's relay thread (load-worker.ts): parses, checks and
// compiles zone files at the lowest priority. A compiled zone's arrays go to the relay's parts port,
// one message per ArrayBuffer, transferred (no copy); then the reply (the zone's head and how many
// parts) to the relay, which hands the parts on one at a time as the serving thread asks (loader.ts).
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { LoaderPart, LoaderReply, LoaderRequest } from './loader.js';
import { transferList } from './transfer-list.js';
import { splitZone } from './zone-parts.js';

// This thread yields to the serving thread when both want the CPU (a server pinned to one core runs
// both there): Linux applies a nice value to one thread when given its thread id.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
} catch {
  // Not Linux, or no /proc: the thread runs at the process's priority.
}

const partsPort = (workerData as { parts: MessagePort }).parts;

// Read the parser's modules only now, at the lower priority: compiling them at the thread's start
// took the serving thread's core for ~0.2 s on a loaded machine (the first reload's answer gap).
const { compileZoneFile } = await import('./load.js');

parentPort!.on('message', (req: LoaderRequest) => {
  let reply: LoaderReply;
  try {
    const result = compileZoneFile(req.name, req.file, req.opts);
    if (result.ok) {
      const { buffers, fileHash, ...rest } = result;
      const { head, parts } = splitZone(buffers);
      // Queued on the relay's port before the reply is posted, so the relay has them when asked.
      for (const part of parts) partsPort.postMessage({ id: req.id, part } satisfies LoaderPart, transferList(part));
      // The file's hash for the primary role's "unchanged file" test (transfer/primary.ts), taken here
      // from the bytes the load read rather than on the serving thread: hashing a 30 MB file there
      // stalled answers for ~0.4 s.
      reply = { id: req.id, result: { ...rest, head, parts: parts.length }, fileHash };
    } else reply = { id: req.id, result };
  } catch (e) {
    // A bug, not a bad file: the caller reports it and keeps the old zone.
    reply = { id: req.id, result: { ok: false, problems: [`${req.file}: cannot load zone ${req.name}: ${(e as Error).stack ?? e}`] } };
  }
  parentPort!.postMessage(reply);
});
