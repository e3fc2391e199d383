// Finds a port on 127.0.0.1 that is free for both UDP and TCP and that no other test process holds.
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function listenTcp(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(srv));
  });
}

function bindUdp(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', () => {
      sock.close();
      resolve(null);
    });
    sock.bind({ address: '127.0.0.1', port, exclusive: true }, () => resolve(sock));
  });
}

function closeTcp(srv: Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

function closeUdp(sock: Socket): Promise<void> {
  return new Promise((resolve) => sock.close(() => resolve()));
}

const handedOut = new Set<number>();

/** The kernel's ephemeral range: client sockets (dig, resolvers, our own TCP clients) take ports from it. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12000 ? low : 32768;
  } catch {
    return 32768;
  }
}
const LOW = 10000;
const HIGH = ephemeralLow();
const RESERVATIONS = join(tmpdir(), 'fluxdns-test-ports');
/** A reservation older than this is left over from a finished run and may be taken again. */
const STALE_MS = 20 * 60_000;

/**
 * Claims `port` for this process across every test process on the machine: an exclusive-create file
 * per port, so two test files running in parallel never hand out the same port between one's probe
 * and its server's bind (the CI failure of stop 18: EADDRINUSE on a port a parallel file had taken).
 */
function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < STALE_MS) return false;
      writeFileSync(file, String(process.pid));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Returns a port that was just bound successfully on 127.0.0.1 for TCP and UDP, then released.
 * Ports come from below the kernel's ephemeral range, so no outgoing connection of a parallel test
 * can be holding one when a server binds it; a reservation file keeps test processes from handing
 * out the same port twice (this process also remembers what it handed out).
 */
export async function freePort(attempts = 200): Promise<number> {
  return freePortRange(1, attempts);
}

/**
 * Returns `count` consecutive free ports (the first is returned), each reserved as freePort does:
 * for `serve --port N` on the demo, which also binds N+1 … N+7.
 */
export async function freePortRange(count: number, attempts = 200): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  for (let i = 0; i < attempts; i++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    if (await claimAll(base, count)) return base;
  }
  throw new Error(`freePort: no ${count} port(s) in ${LOW}-${HIGH - 1} free for both UDP and TCP after ${attempts} attempts`);
}

async function claimAll(base: number, count: number): Promise<boolean> {
  for (let port = base; port < base + count; port++) {
    if (handedOut.has(port) || !reserve(port)) return false;
    handedOut.add(port);
    const tcp = await listenTcp(port);
    if (!tcp) return false;
    const udp = await bindUdp(port);
    await closeTcp(tcp);
    if (!udp) return false;
    await closeUdp(udp);
  }
  return true;
}
