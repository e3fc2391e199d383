// The control socket's timeouts are on silence: a command that runs longer than the idle timeout (a large
// zone's reload) still gets its reply, kept alive by newlines; a client that sends nothing is cut off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from './client.js';
import { startControl } from './server.js';

test('a command running 6× the idle timeout is answered; the client, with a timeout of 3× the keep-alive, waits for it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-ctl-'));
  const path = join(dir, 'ctl.sock');
  const server = await startControl(path, () => new Promise((resolve) => setTimeout(() => resolve({ ok: true, data: { reloaded: 'big.lab.' } }), 1200)), { idleMs: 200, keepAliveMs: 100 });
  try {
    // Before: the server destroyed the socket 200 ms after the request and the client got no reply.
    assert.deepEqual(await controlRequest(path, { cmd: 'reload', zone: 'big.lab.' }, 300), { ok: true, data: { reloaded: 'big.lab.' } });
    // A connection that never sends its request is closed after the idle timeout.
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(path);
      const timer = setTimeout(() => resolve(false), 5000);
      s.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      s.on('error', () => {});
    });
    assert.equal(closed, true);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
