// The memory relief collects garbage an idle process would keep (external memory of dropped buffers
// comes back), needs node started with --expose-gc for that, and never runs while connections arrive
// or the event loop is busy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMemoryRelief, type ReliefReport } from './memory-relief.js';

const here = fileURLToPath(new URL('./memory-relief.ts', import.meta.url));

/** Runs `body` (an async function body that may use `relieveMemory`) in a fresh node with the given flags; returns its JSON output. */
function inChild(flags: string[], body: string): Record<string, unknown> {
  const code = `const { relieveMemory, gcExposed } = await import(${JSON.stringify(here)});\nconst out = await (async () => { ${body} })();\nconsole.log(JSON.stringify(out));`;
  const stdout = execFileSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const DROP_64MB = `
  await relieveMemory();
  const before = process.memoryUsage().external;
  let held = Array.from({ length: 64 }, () => Buffer.alloc(1 << 20, 1));
  const grown = process.memoryUsage().external - before;
  held.length = 0; held = undefined;
  const r = await relieveMemory();
  return { exposed: gcExposed(), grown, left: process.memoryUsage().external - before, r };`;

test('started with --expose-gc (as the fluxdns command starts node): a relief frees dropped buffers at once', () => {
  const out = inChild(['--expose-gc'], DROP_64MB);
  const r = out.r as ReliefReport;
  assert.equal(out.exposed, true);
  assert.ok((out.grown as number) >= 60e6, 'the buffers count as external memory');
  assert.ok((out.left as number) < 8e6, `external memory left: ${String(out.left)} bytes`);
  assert.equal(r.gc, true);
  assert.equal(r.complete, true);
  assert.ok(r.rssBeforeKB > 0 && r.rssAfterKB > 0);
  assert.ok(r.longestStepMs <= r.ms);
  assert.equal(typeof r.trimmed, 'boolean');
});

test('without --expose-gc nothing sets the flag at run time: no GC, the relief only trims malloc', () => {
  const out = inChild([], DROP_64MB);
  const r = out.r as ReliefReport;
  assert.equal(out.exposed, false);
  assert.equal(r.gc, false);
  assert.equal(r.complete, true);
});

test('a relief stops between steps when quiet() turns false (a connection arrived)', () => {
  const out = inChild(['--expose-gc'], `let asked = 0; const r = await relieveMemory(() => (asked++, false)); return { asked, r };`);
  const r = out.r as ReliefReport;
  assert.equal(r.gc, true);
  assert.equal(r.complete, false);
  assert.equal(r.trimmed, false, 'the trim, the last step, did not run');
  // Only the first step ran; quiet() was asked once, before the second.
  assert.equal(out.asked, 1);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('startMemoryRelief waits while connections arrive or the event loop is busy, then relieves once idle', async () => {
  let arrived = 0;
  let open = 0;
  const reliefs: ReliefReport[] = [];
  const relief = startMemoryRelief({ arrived: () => arrived, open: () => open }, (r) => reliefs.push(r), { tickMs: 50, minIntervalMs: 0, growth: 0 });
  try {
    // Connections arriving: one every 10 ms for 600 ms.
    for (let i = 0; i < 60; i++) {
      arrived++;
      await sleep(10);
    }
    assert.equal(reliefs.length, 0, 'no relief while connections arrive');
    // Many open, none arriving.
    open = 100;
    await sleep(300);
    assert.equal(reliefs.length, 0, 'no relief while many connections are open');
    open = 0;
    // A busy event loop (a UDP flood shows here): 45 ms of work in every 50.
    const busyUntil = Date.now() + 600;
    while (Date.now() < busyUntil) {
      const spin = Date.now() + 45;
      while (Date.now() < spin);
      await sleep(5);
    }
    assert.equal(reliefs.length, 0, 'no relief while the event loop is busy');
    const deadline = Date.now() + 10_000;
    while (reliefs.length === 0 && Date.now() < deadline) await sleep(20);
    assert.ok(reliefs.length >= 1, 'a relief once idle');
    assert.equal(reliefs[0]!.complete, true);
  } finally {
    relief.stop();
  }
});
