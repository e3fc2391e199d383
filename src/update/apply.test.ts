// RFC 2136 semantics of applyUpdate on a small zone: prerequisites, adds and deletes, the apex rules, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZone } from '../zone/parser.js';
import { Zone } from '../zone/tree.js';
import { Rcode, RRClass, RRType } from '../wire/types.js';
import type { UpdateMessage, UpdateRecord } from '../client/update.js';
import { applyUpdate } from './apply.js';

const ORIGIN = 'up.lab.';
const zone = Zone.build(ORIGIN, parseZone('$TTL 60\n@ SOA ns hm 10 1 1 1 1\n NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\nalias CNAME www\n', { origin: ORIGIN }).records);

const rr = (name: string, type: number, klass: number, data?: UpdateRecord['data'], ttl = 0): UpdateRecord => ({ name, type, class: klass, ttl, data });
const msg = (prerequisites: UpdateRecord[], updates: UpdateRecord[]): UpdateMessage => ({
  id: 1,
  flags: { qr: false, opcode: 5, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
  zone: [{ name: ORIGIN, type: RRType.SOA, class: RRClass.IN }],
  prerequisites,
  updates,
  additional: [],
});

test('an add raises the serial by one and reports exactly what came', () => {
  const r = applyUpdate(zone, msg([], [rr(`new.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.9' }, 300)]), 'increment', 0);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.ok('next' in r && r.next && r.diff);
  assert.equal(r.next.serial, 11);
  assert.deepEqual(r.diff.added.map((a) => a.name), [`new.${ORIGIN}`]);
  assert.equal(r.diff.removed.length, 0);
  assert.equal(r.next.recordCount, zone.recordCount + 1);
});

test('an added TTL with the top bit set is held as 0 (RFC 2181 §8: the zone file written reads back so)', () => {
  const r = applyUpdate(zone, msg([], [rr(`big.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.9' }, 0xffffffff), rr(`max.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.10' }, 0x7fffffff)]), 'increment', 0);
  assert.ok('next' in r && r.next && r.diff);
  assert.deepEqual(r.diff.added.map((a) => [a.name, a.ttl]), [[`big.${ORIGIN}`, 0], [`max.${ORIGIN}`, 0x7fffffff]]);
});

test('prerequisites: NXDOMAIN, YXDOMAIN, NXRRSET, YXRRSET, and value-dependent RRset equality', () => {
  const add = [rr(`x.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.3' }, 60)];
  assert.equal(applyUpdate(zone, msg([rr(`nope.${ORIGIN}`, RRType.ANY, RRClass.ANY)], add), 'increment', 0).rcode, Rcode.NXDOMAIN);
  assert.equal(applyUpdate(zone, msg([rr(`www.${ORIGIN}`, RRType.ANY, RRClass.NONE)], add), 'increment', 0).rcode, Rcode.YXDOMAIN);
  assert.equal(applyUpdate(zone, msg([rr(`www.${ORIGIN}`, RRType.TXT, RRClass.ANY)], add), 'increment', 0).rcode, Rcode.NXRRSET);
  assert.equal(applyUpdate(zone, msg([rr(`www.${ORIGIN}`, RRType.A, RRClass.NONE)], add), 'increment', 0).rcode, Rcode.YXRRSET);
  assert.equal(applyUpdate(zone, msg([rr(`www.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.2' })], add), 'increment', 0).rcode, Rcode.NOERROR);
  assert.equal(applyUpdate(zone, msg([rr(`www.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.99' })], add), 'increment', 0).rcode, Rcode.NXRRSET);
});

test('the apex SOA and last NS are never deleted; deleting a whole name keeps the apex; a no-op changes nothing', () => {
  const r = applyUpdate(zone, msg([], [rr(ORIGIN, RRType.ANY, RRClass.ANY), rr(ORIGIN, RRType.NS, RRClass.NONE, { target: `ns.${ORIGIN}` })]), 'increment', 0);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.ok('next' in r && r.next === undefined, 'nothing changed, no new serial');
  const gone = applyUpdate(zone, msg([], [rr(`www.${ORIGIN}`, RRType.ANY, RRClass.ANY)]), 'increment', 0);
  assert.ok('next' in gone && gone.next && gone.diff);
  assert.deepEqual(gone.diff.removed.map((x) => [x.name, x.type]), [[`www.${ORIGIN}`, RRType.A]]);
});

test('refused or malformed: CNAME beside data, data beside a CNAME, out of zone, meta types, TTL on a delete', () => {
  assert.equal(applyUpdate(zone, msg([], [rr(`www.${ORIGIN}`, RRType.CNAME, RRClass.IN, { target: `ns.${ORIGIN}` }, 60)]), 'increment', 0).rcode, Rcode.REFUSED);
  assert.equal(applyUpdate(zone, msg([], [rr(`alias.${ORIGIN}`, RRType.TXT, RRClass.IN, { strings: [new Uint8Array([104])] }, 60)]), 'increment', 0).rcode, Rcode.REFUSED);
  assert.equal(applyUpdate(zone, msg([], [rr('other.example.', RRType.A, RRClass.IN, { address: '198.51.100.3' }, 60)]), 'increment', 0).rcode, Rcode.NOTZONE);
  assert.equal(applyUpdate(zone, msg([], [rr(`x.${ORIGIN}`, RRType.AXFR, RRClass.IN, { address: '198.51.100.3' }, 60)]), 'increment', 0).rcode, Rcode.FORMERR);
  assert.equal(applyUpdate(zone, msg([], [rr(`www.${ORIGIN}`, RRType.A, RRClass.ANY, undefined, 60)]), 'increment', 0).rcode, Rcode.FORMERR);
});

test('serial: unixtime takes the clock when it is ahead, and a higher SOA in the update wins', () => {
  const add = [rr(`t.${ORIGIN}`, RRType.A, RRClass.IN, { address: '198.51.100.4' }, 60)];
  const r = applyUpdate(zone, msg([], add), 'unixtime', 1_800_000_000);
  assert.ok('next' in r && r.next);
  assert.equal(r.next.serial, 1_800_000_000);
  const soa = rr(ORIGIN, RRType.SOA, RRClass.IN, { mname: `ns.${ORIGIN}`, rname: `hm.${ORIGIN}`, serial: 500, refresh: 1, retry: 1, expire: 1, minimum: 1 }, 60);
  const s = applyUpdate(zone, msg([], [soa, ...add]), 'increment', 0);
  assert.ok('next' in s && s.next);
  assert.equal(s.next.serial, 500);
});
