#!/usr/bin/env node
// Builds the optional native addons (native/: UDP batching, libnftables) with the node-gyp bundled in npm, using the
// Node headers on this machine. It never fails the install: without them fluxdns uses dgram and `nft -i`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(root, 'native');

function done(line) {
  process.stdout.write(`fluxdns: ${line}\n`);
  process.exit(0);
}

if (process.env.FLUXDNS_SKIP_NATIVE === '1') done('native UDP batching skipped (FLUXDNS_SKIP_NATIVE=1); using node:dgram');
if (process.platform !== 'linux') done(`native UDP batching is Linux-only (recvmmsg/sendmmsg); using node:dgram on ${process.platform}`);

/** npm's own node-gyp: beside the npm running this script, or beside the npm on PATH. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

/** Headers installed with this Node (Debian's nodejs, the official tarball): no download needed. */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const gyp = findNodeGyp();
if (!gyp) done('native UDP batching not built (node-gyp not found beside npm); using node:dgram');
const nodedir = findNodeDir();
const args = [gyp, 'rebuild', '--loglevel=silent', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: native, encoding: 'utf8', timeout: 180_000 });
const addons = ['fluxdns_udp', 'fluxdns_nft', 'fluxdns_dnssec', 'fluxdns_xfr'];
const builtAddon = (name) => existsSync(join(native, 'build', 'Release', `${name}.node`));
// One failing target must not cost the others (node-gyp stops at the first error): build the rest with make -k.
if (r.status !== 0 && existsSync(join(native, 'build', 'Makefile'))) {
  spawnSync('make', ['-C', join(native, 'build'), '-k', 'BUILDTYPE=Release'], { encoding: 'utf8', timeout: 180_000 });
}
const missing = addons.filter((a) => !builtAddon(a));
const why = (r.error?.message ?? `${r.stderr ?? ''}${r.stdout ?? ''}`).split('\n').map((l) => l.trim()).filter(Boolean).find((l) => /error/i.test(l)) ?? `node-gyp exited with ${r.status}`;
if (missing.length > 0) process.stdout.write(`fluxdns: native addons not built: ${missing.join(', ')} (${why.slice(0, 160)})\n`);
if (builtAddon('fluxdns_udp')) done('native UDP batching built (recvmmsg/sendmmsg)');
done(`native UDP batching not built (${why.slice(0, 160)}); using node:dgram`);
