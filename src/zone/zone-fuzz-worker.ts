// Runs fuzz inputs through the whole loader (parse, check, print) in a child process, reporting each index before it starts.
import { checkZoneReport } from './check.js';
import { fuzzInput } from './fuzz-inputs.js';
import { parseZone, ZoneError } from './parser.js';
import { printZone } from './print.js';


const ORIGINS = ['example.', 'records.', '.', 'example.com.'];

function send(m: object): void {
  process.send!(m);
}

function run({ corpus, seed, from, to }: { corpus: string[]; seed: number; from: number; to: number }): void {
for (let i = from; i < to; i++) {
  send({ started: i });
  const text = fuzzInput(corpus, seed, i);
  const origin = ORIGINS[i % ORIGINS.length]!;
  try {
    const z = parseZone(text, {
      origin,
      file: 'fuzz.zone',
      // $INCLUDE reads another input of the run, or fails like a missing file; nesting is bounded.
      readInclude: (p) => {
        if (p.length % 2 === 0) throw new Error(`no such file ${p}`);
        return fuzzInput(corpus, seed + 1, i);
      },
    });
    checkZoneReport(z, origin);
    printZone(z.records);
    printZone(z.records, { generic: true });
  } catch (e) {
    if (!(e instanceof ZoneError)) {
      send({ failed: i, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) });
      return;
    }
  }
}
send({ done: true });
}

process.once('message', (m) => {
  run(m as { corpus: string[]; seed: number; from: number; to: number });
  process.disconnect();
});
