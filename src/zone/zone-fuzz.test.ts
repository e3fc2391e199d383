// Fuzzes the zone loader with random and mutated zone text: nothing but ZoneError may come out, and no
// input may hang it. FLUXDNS_ZONE_FUZZ_RUNS sets the count (npm run fuzz:zone runs many more).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzInput, loadCorpus } from './fuzz-inputs.js';

const RUNS = Number(process.env.FLUXDNS_ZONE_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FLUXDNS_ZONE_FUZZ_SEED ?? 20261202);
/**
 * No single input may keep the loader busy this long. Inputs are a few kB, but a $GENERATE in them
 * may make 100,000 records (seconds on a loaded machine); a hang never ends.
 */
const PER_INPUT_MS = 60000;

const here = dirname(fileURLToPath(import.meta.url));
const corpus = loadCorpus(join(here, '..', '..', 'test', 'fixtures', 'zones'));

test(`zone loader fuzz: ${RUNS} random and mutated inputs, each bounded to ${PER_INPUT_MS} ms`, async () => {
  assert.ok(corpus.length > 20, 'the fixture corpus was found');
  const result = await new Promise<{ failed?: number; error?: string; hung?: number }>((resolve, reject) => {
    // A child process, so a hung input can be stopped (by its PID) without stopping the test runner.
    const w = fork(join(here, 'zone-fuzz-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    w.send({ corpus, seed: SEED, from: 0, to: RUNS });
    let settled = false;
    const settle = (r: { failed?: number; error?: string; hung?: number }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (w.exitCode === null) w.kill('SIGKILL');
      resolve(r);
    };
    let current = -1;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => settle({ hung: current }), PER_INPUT_MS);
    };
    arm();
    w.on('message', (m: { started?: number; failed?: number; error?: string; done?: boolean }) => {
      if (m.started !== undefined) {
        current = m.started;
        arm();
      } else if (m.failed !== undefined) settle({ failed: m.failed, error: m.error });
      else if (m.done) settle({});
    });
    w.on('exit', (code) => {
      if (!settled) settle({ failed: current, error: `the fuzz process exited (code ${code}) before finishing` });
    });
    w.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const show = (i: number): string => JSON.stringify(fuzzInput(corpus, SEED, i));
  assert.equal(result.hung, undefined, `input ${result.hung} ran longer than ${PER_INPUT_MS} ms: ${result.hung !== undefined ? show(result.hung) : ''}`);
  assert.equal(result.error, undefined, `input ${result.failed} threw something other than ZoneError: ${result.error}\ninput: ${result.failed !== undefined ? show(result.failed) : ''}`);
});
