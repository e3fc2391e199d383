// dnssec-online through the whole pipeline: signed only with DO, after TTL jitter (the TTL sent is the TTL signed), DNSKEY without DO, a reload signs afresh, a signing failure is SERVFAIL and never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfigText } from '../../config/load.js';
import { buildRuntime } from '../../server/runtime-load.js';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { Rcode, RRType, type Message, type OpaqueRdata } from '../../wire/types.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import type { TransportInfo } from '../../answer/context.js';
import { Engine } from '../../answer/engine.js';
import type { Runtime } from '../../answer/runtime.js';
import { createUnits, ModuleSet } from '../../answer/units.js';
import { ttlJitterFinisher } from '../ttl-jitter/index.js';
import { generateKey, writeKeyFiles, type DnssecKey } from '../../dnssec/keys.js';
import { parseRrsig, verifyRRset } from '../../dnssec/rrsig.js';
import { signersOf } from '../../dnssec/online/signers.js';

const ZONE = '$TTL 300\n@ SOA ns hm 1 3600 600 86400 120\n NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n';
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };

function setup(): { dir: string; key: DnssecKey; runtime: () => Runtime } {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-unit-'));
  const key = generateKey('t.lab', 15, true);
  const file = writeKeyFiles(dir, key).privateFile;
  writeFileSync(join(dir, 't.zone'), ZONE);
  const runtime = (): Runtime => {
    const config = parseConfigText(`zones:\n  - { name: t.lab., file: t.zone, ttlJitter: { min: 60 }, dnssec: { sign: online, keys: [${JSON.stringify(file)}] } }\n`, join(dir, 't.yaml')).config;
    return { config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(ZONE, { origin: 't.lab.' }).records)]), generation: 1 };
  };
  return { dir, key, runtime };
}

const ask = (e: Engine, name: string, type: number, dnssecOk: boolean): Message =>
  decodeMessage(e.handle(encodeMessage(queryMessage(name, type, { id: 7, edns: 1232, dnssecOk })), udp) as Uint8Array);

test('with DO each RRset is signed over the jittered TTL; without DO nothing is added; DNSKEY is answered either way', () => {
  const { dir, key, runtime } = setup();
  try {
    const units = createUnits().map((u) => (u.name === 'ttl-jitter' ? ttlJitterFinisher(() => 77) : u));
    const e = new Engine(runtime(), units);
    const plain = ask(e, 'www.t.lab.', RRType.A, false);
    assert.deepEqual(plain.answers.map((r) => r.type), [RRType.A]);
    const signed = ask(e, 'www.t.lab.', RRType.A, true);
    assert.deepEqual(signed.answers.map((r) => r.type), [RRType.A, RRType.RRSIG]);
    const [a, sig] = signed.answers as [Message['answers'][0], Message['answers'][0]];
    assert.equal(a.ttl, 77);
    assert.equal(sig.ttl, 77);
    assert.equal(parseRrsig((sig.data as OpaqueRdata).raw).originalTtl, 77);
    assert.ok(verifyRRset([a], sig, key.dnskeyRdata));
    const dnskey = ask(e, 't.lab.', RRType.DNSKEY, false);
    assert.equal(dnskey.flags.aa, true);
    assert.deepEqual(dnskey.answers.map((r) => r.type), [RRType.DNSKEY]);
    assert.deepEqual(Buffer.from((dnskey.answers[0]!.data as OpaqueRdata).raw), Buffer.from(key.dnskeyRdata));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reload (a new configuration) signs with a new signature cache; a signing failure answers SERVFAIL and is reported', () => {
  const { dir, key, runtime } = setup();
  try {
    const errors: unknown[] = [];
    const first = runtime();
    const e = new Engine(first, createUnits(), { onUnitError: (_u, err) => errors.push(err) });
    ask(e, 'www.t.lab.', RRType.A, true);
    const before = signersOf(first.config).find('t.lab.')!;
    assert.ok(before.signed >= 1);
    const second = runtime();
    e.swap(second);
    ask(e, 'www.t.lab.', RRType.A, true);
    assert.ok(signersOf(second.config).find('t.lab.')!.signed >= 1, 'the reloaded configuration signs afresh');
    // A key node:crypto refuses (an Ed25519 key labelled ECDSA): the answer is SERVFAIL, the server goes on.
    const broken = runtime();
    const z = signersOf(broken.config).find('t.lab.')!;
    (z.zoneSigners as DnssecKey[])[0] = { ...key, algorithm: 13 };
    e.swap(broken);
    const r = ask(e, 'www.t.lab.', RRType.A, true);
    assert.equal(r.flags.rcode, Rcode.SERVFAIL);
    assert.equal(r.answers.length, 0);
    assert.equal(errors.length, 1);
    assert.doesNotMatch(String(errors[0]), /PRIVATE KEY|PrivateKey:/);
    // Without DO nothing is signed, so the same configuration still answers.
    assert.equal(ask(e, 'www.t.lab.', RRType.A, false).flags.rcode, Rcode.NOERROR);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('load: a configuration whose keys cannot be read is refused at load (not SERVFAIL later); a signed zone file with sign: online is warned about; no signed zone keeps the units out of the chain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-load-'));
  try {
    const key = generateKey('t.lab', 13, true);
    const { privateFile } = writeKeyFiles(dir, key);
    const b64 = Buffer.from(key.publicKey).toString('base64');
    writeFileSync(join(dir, 't.zone'), ZONE);
    writeFileSync(join(dir, 'signed.zone'), `${ZONE}@ DNSKEY ${key.flags} 3 13 ${b64}\n`);
    const yaml = (file: string) => `zones:\n  - { name: t.lab., file: ${file}, dnssec: { sign: online, keys: [${JSON.stringify(privateFile)}] } }\n`;
    const warnings: string[] = [];
    const modules = new ModuleSet({ warn: (m) => warnings.push(m) });
    const ok = buildRuntime(parseConfigText(yaml('t.zone'), join(dir, 'f.yaml')), 1, modules).runtime;
    assert.deepEqual(warnings, []);
    assert.ok(ok.chain!.units.some((u) => u.name === 'dnssec-sign'));
    buildRuntime(parseConfigText(yaml('signed.zone'), join(dir, 'f.yaml')), 2, modules);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /zones\[0\] t\.lab\.: the zone file is signed already/);
    // A copy of the configuration (as a worker gets it) reads its keys again: with the key file gone, the load fails.
    const loaded = parseConfigText(yaml('t.zone'), join(dir, 'f.yaml'));
    rmSync(privateFile);
    const copy = { ...loaded, config: structuredClone(loaded.config) };
    assert.throws(() => buildRuntime(copy, 3, modules), (e: unknown) => e instanceof ConfigError && /online signing cannot start/.test(e.message) && !/PrivateKey:/.test(e.message));
    const plain = buildRuntime(parseConfigText(`zones:\n  - { name: t.lab., file: t.zone }\n`, join(dir, 'f.yaml')), 4, modules).runtime;
    assert.ok(!plain.chain!.units.some((u) => u.name === 'dnssec-sign' || u.name === 'dnssec-keys'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
