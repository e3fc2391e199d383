// Runs one side of an attack test in its own process (started with `ip netns exec NS node --import tsx
// test/helpers/attack-driver.ts JSON`), so attacker and legitimate client each have an event loop of
// their own and can sit in a network namespace. Prints progress lines and one JSON result line.
//   { "mode": "hold", host, port, sources, perSource, everyMs, reconnectMs? }   slot holders until SIGTERM; prints "opened N live M" each second
//   { "mode": "flood", host, port, sources, loops }                a reconnect flood until SIGTERM; prints "attempts N" each second
//   { "mode": "legit", targets, seconds }                          the legitimate client for `seconds`; prints "result {scores}"
//   { "mode": "count", host, port, groups: { NAME: [sources] } }   one connection per source, kept open; prints
//                                                                  "result {NAME: answered}" once every answer came or 10 s passed
import net from 'node:net';
import { answered, framed, holdSlots, legitimate, query, reconnectFlood, sleep, type Ports } from './attack.js';

type Spec =
  | { mode: 'hold'; host: string; port: number; sources: string[]; perSource: number; everyMs: number; reconnectMs?: number }
  | { mode: 'flood'; host: string; port: number; sources: string[]; loops: number }
  | { mode: 'legit'; targets: Array<Ports & { label?: string; localAddress?: string }>; seconds: number }
  | { mode: 'count'; host: string; port: number; groups: Record<string, string[]> };

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
let end!: () => void;
const stop = new Promise<void>((r) => (end = r));
process.on('SIGTERM', () => {
  end();
  setTimeout(() => process.exit(0), 200);
});

/** One connection from `src` sending one query, kept open; resolves true when the answer came. */
function held(host: string, port: number, src: string, keep: net.Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: src });
    keep.push(s);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => resolve(false), 10_000);
    s.on('connect', () => s.write(framed(query(5))));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        resolve(answered(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

if (spec.mode === 'hold') {
  const h = holdSlots(spec.host, spec.port, spec.sources, spec.perSource, spec.everyMs, stop, spec.reconnectMs);
  setInterval(() => console.log(`opened ${h.opened()} live ${h.live()}`), 1000);
} else if (spec.mode === 'flood') {
  const tally = { attempts: 0 };
  void reconnectFlood(spec.host, spec.port, spec.sources, spec.loops, stop, tally);
  setInterval(() => console.log(`attempts ${tally.attempts}`), 1000);
} else if (spec.mode === 'legit') {
  setTimeout(end, spec.seconds * 1000);
  const score = await legitimate(spec.targets, stop);
  console.log(`result ${JSON.stringify(score)}`);
  process.exit(0);
} else if (spec.mode === 'count') {
  const keep: net.Socket[] = [];
  const result: Record<string, number> = {};
  for (const [name, sources] of Object.entries(spec.groups)) {
    // One group after the other, each connection answered (or refused) before the next opens.
    let n = 0;
    for (const src of sources) if (await held(spec.host, spec.port, src, keep)) n++;
    result[name] = n;
  }
  // Still open a moment later: an admitted connection stays, a refused one was closed.
  await sleep(500);
  result.stillOpen = keep.filter((s) => !s.destroyed && s.readyState === 'open').length;
  console.log(`result ${JSON.stringify(result)}`);
  for (const s of keep) s.destroy();
  process.exit(0);
}
