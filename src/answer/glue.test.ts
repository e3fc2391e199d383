// RFC 9471: a referral whose in-domain glue does not fit is truncated; sibling glue is optional.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { RRType } from '../wire/types.js';
import { lookup } from '../zone/lookup.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import type { TransportInfo } from './context.js';
import { Engine } from './engine.js';
import { createUnits } from './units.js';

const long = (i: number) => `ns${i}-${'x'.repeat(50)}`;
// Eight in-domain name servers with long names: their glue is about 8 × 70 bytes, more than 512.
const ZONE = `$TTL 300
@ SOA ns hm 1 3600 600 86400 60
  NS ns
ns A 198.51.100.1
sib A 198.51.100.2
${Array.from({ length: 8 }, (_, i) => `big NS ${long(i)}.big\n${long(i)}.big A 198.51.100.${10 + i}`).join('\n')}
small NS ns.small
small NS sib
ns.small A 198.51.100.30
`;

const zones = new ZoneSet([Zone.build('g.lab.', parseZone(ZONE, { origin: 'g.lab.' }).records)]);
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };
const engine = new Engine({ config: parseConfigText('{}', 'g.yaml').config, zones, generation: 1 }, createUnits());

test('the lookup puts in-domain glue first and counts it; sibling glue follows', () => {
  const r = lookup(zones, 'host.small.g.lab.', RRType.A, { minimalAny: true });
  assert.equal(r.kind, 'referral');
  assert.deepEqual(r.additional.map((a) => a.name), ['ns.small.g.lab.', 'sib.g.lab.']);
  assert.equal(r.requiredAdditional, 1);
  assert.equal(lookup(zones, 'x.big.g.lab.', RRType.A, { minimalAny: true }).requiredAdditional, 8);
});

test('a referral whose in-domain glue does not fit in 512 bytes is truncated (TC=1)', () => {
  const plain = decodeMessage(engine.handle(encodeMessage(queryMessage('x.big.g.lab.', RRType.A, { id: 1 })), udp) as Uint8Array);
  assert.equal(plain.flags.tc, true);
  const edns = decodeMessage(engine.handle(encodeMessage(queryMessage('x.big.g.lab.', RRType.A, { id: 2, edns: 1232 })), udp) as Uint8Array);
  assert.equal(edns.flags.tc, false);
  assert.equal(edns.authorities.length, 8);
  assert.equal(edns.additionals.length, 8);
});

test('sibling glue that does not fit is left out without TC', () => {
  const msg = queryMessage('host.small.g.lab.', RRType.A, { id: 3 });
  const result = lookup(zones, 'host.small.g.lab.', RRType.A, { minimalAny: true });
  const resp = { ...msg, flags: { ...msg.flags, qr: true }, authorities: result.authority, additionals: result.additional };
  const full = encodeMessage(resp, { requiredAdditional: 1 });
  // Room for everything but the last (sibling) glue record.
  const tight = decodeMessage(encodeMessage(resp, { maxSize: full.length - 1, requiredAdditional: 1 }));
  assert.equal(tight.flags.tc, false);
  assert.deepEqual(tight.additionals.map((a) => a.name), ['ns.small.g.lab.']);
  // Without room for the in-domain glue, TC.
  const tighter = decodeMessage(encodeMessage(resp, { maxSize: full.length - 17, requiredAdditional: 1 }));
  assert.equal(tighter.flags.tc, true);
});
