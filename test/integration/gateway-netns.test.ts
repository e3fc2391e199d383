// The gateway on a non-loopback prefix: two network namespaces joined by a veth pair; the gateway's
// namespace holds an AnyIP route (`ip route add local PREFIX dev lo`), the client's dials addresses of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, stopAll } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';

const tag = randomBytes(3).toString('hex');
const nsG = `fluxgw-${tag}-g`;
const nsC = `fluxgw-${tag}-c`;
const dir = mkdtempSync(join(tmpdir(), 'fluxdns-gwns-'));

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (ns: string, ...args: string[]) => ip('netns', 'exec', ns, ...args);

after(async () => {
  await stopAll();
  // Deleting a namespace deletes the veth end inside it, and with it the peer.
  for (const ns of [nsG, nsC]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not created
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const BACKENDS = `
import net from 'node:net'; import dgram from 'node:dgram';
const tcp = (name, port) => net.createServer((s) => s.once('data', (d) => s.end(name + ' ' + d.toString().trim() + '\\n'))).listen(port, '127.0.0.1');
tcp('A', 9001); tcp('B', 9002);
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send('U ' + m.toString(), r.port, r.address)); u.bind(9003, '127.0.0.1');
setTimeout(() => console.log('backends ready'), 200);
`;

const CLIENT = `
import net from 'node:net'; import dgram from 'node:dgram';
const [tcpTargets, udpTargets] = JSON.parse(process.argv[2]);
const tcp = (host, port) => new Promise((res) => {
  const s = net.connect({ host, port }); let out = '';
  s.on('connect', () => s.write(host + '\\n')); s.on('data', (d) => (out += d)); s.on('end', () => res({ host, port, reply: out }));
  s.on('error', (e) => res({ host, port, error: e.code })); s.setTimeout(5000, () => { s.destroy(); res({ host, port, error: 'timeout' }); });
});
const udp = (host, port) => new Promise((res) => {
  const s = dgram.createSocket('udp4'); const t = setTimeout(() => { s.close(); res({ host, port, error: 'timeout' }); }, 2000);
  s.on('message', (m, r) => { clearTimeout(t); s.close(); res({ host, port, reply: m.toString(), from: r.address + ':' + r.port }); });
  s.send(host, port, host);
});
const out = [];
for (const [h, p] of tcpTargets) out.push(await tcp(h, p));
for (const [h, p] of udpTargets) out.push(await udp(h, p));
console.log(JSON.stringify(out));
`;

describe('gateway in a network namespace with an AnyIP route', () => {
  before(async () => {
    const vc = `fgc${tag}`;
    const vg = `fgg${tag}`;
    ip('netns', 'add', nsG);
    ip('netns', 'add', nsC);
    ip('link', 'add', vc, 'netns', nsC, 'type', 'veth', 'peer', 'name', vg, 'netns', nsG);
    inNs(nsC, 'ip', 'addr', 'add', '198.18.0.1/30', 'dev', vc);
    inNs(nsG, 'ip', 'addr', 'add', '198.18.0.2/30', 'dev', vg);
    for (const [ns, dev] of [[nsC, vc], [nsG, vg], [nsC, 'lo'], [nsG, 'lo']] as const) inNs(ns, 'ip', 'link', 'set', dev, 'up');
    // AnyIP: every address of the prefixes is local in the gateway's namespace, though none is on an interface.
    inNs(nsG, 'ip', 'route', 'add', 'local', '198.18.64.0/24', 'dev', 'lo');
    inNs(nsG, 'ip', 'route', 'add', 'local', '198.18.65.0/29', 'dev', 'lo');
    inNs(nsC, 'ip', 'route', 'add', '198.18.64.0/23', 'via', '198.18.0.2');

    writeFileSync(join(dir, 'backends.mjs'), BACKENDS);
    writeFileSync(join(dir, 'client.mjs'), CLIENT);
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `gateway:
  listeners:
    - { prefixes: ["198.18.64.0/24"], ports: ["tcp/8080"] }
    - { prefixes: ["198.18.65.0/29"], ports: ["udp/5300"] }
  dispatch:
    - { prefix: 198.18.64.0/25, proto: tcp, ports: 8080, backend: "127.0.0.1:9001" }
    - { prefix: 198.18.64.128/26, proto: tcp, ports: 8080, backend: "127.0.0.1:9002" }
    - { prefix: 198.18.65.0/29, proto: udp, ports: 5300, backend: "127.0.0.1:9003" }
`,
    );
    const backends = startProcess('ip', ['netns', 'exec', nsG, process.execPath, join(dir, 'backends.mjs')], { name: 'backends' });
    const gw = startProcess('ip', ['netns', 'exec', nsG, process.execPath, '--import', 'tsx', fluxdnsMain, 'gateway', '--config', join(dir, 'gateway.yaml')], { cwd: repoRoot, name: 'gateway-netns' });
    await Promise.all([backends.waitFor(/backends ready/, 10000), gw.waitFor(/fluxdns gateway ready/, 90_000)]);
  });

  test('addresses of the prefix reach their backends from another namespace; the rest is refused', () => {
    const tcpTargets = [['198.18.64.1', 8080], ['198.18.64.77', 8080], ['198.18.64.127', 8080], ['198.18.64.128', 8080], ['198.18.64.150', 8080], ['198.18.64.191', 8080], ['198.18.64.192', 8080], ['198.18.64.255', 8080]];
    const udpTargets = [['198.18.65.1', 5300], ['198.18.65.6', 5300]];
    const out = JSON.parse(inNs(nsC, process.execPath, join(dir, 'client.mjs'), JSON.stringify([tcpTargets, udpTargets]))) as Array<Record<string, unknown>>;
    assert.deepEqual(out, [
      { host: '198.18.64.1', port: 8080, reply: 'A 198.18.64.1\n' },
      { host: '198.18.64.77', port: 8080, reply: 'A 198.18.64.77\n' },
      { host: '198.18.64.127', port: 8080, reply: 'A 198.18.64.127\n' },
      { host: '198.18.64.128', port: 8080, reply: 'B 198.18.64.128\n' },
      { host: '198.18.64.150', port: 8080, reply: 'B 198.18.64.150\n' },
      { host: '198.18.64.191', port: 8080, reply: 'B 198.18.64.191\n' },
      // Served by the listener, but no dispatch entry covers 198.18.64.192/26: reset.
      { host: '198.18.64.192', port: 8080, error: 'ECONNRESET' },
      { host: '198.18.64.255', port: 8080, error: 'ECONNRESET' },
      // UDP: one socket per AnyIP address, so the reply leaves from the address dialled.
      { host: '198.18.65.1', port: 5300, reply: 'U 198.18.65.1', from: '198.18.65.1:5300' },
      { host: '198.18.65.6', port: 5300, reply: 'U 198.18.65.6', from: '198.18.65.6:5300' },
    ]);
  });
});
