// Response padding (RFC 8467 §4.1) through the whole engine: only encrypted transports, only when asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { paddingOption } from '../wire/edns.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { EdnsOptionCode, RRType, type EdnsOption } from '../wire/types.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import type { TransportInfo, TransportProto } from './context.js';
import { Engine } from './engine.js';
import { RESPONSE_PAD_BLOCK } from './padding.js';
import { createUnits } from './units.js';

const ZONE = '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\nbig TXT "' + 'x'.repeat(250) + '" "' + 'y'.repeat(250) + '"\n';
const runtime = { config: parseConfigText('{}', 't.yaml').config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(ZONE, { origin: 't.lab.' }).records)]), generation: 1 };
const via = (proto: TransportProto): TransportInfo => ({ proto, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 853 });

function query(name: string, options: EdnsOption[] | undefined): Uint8Array {
  return encodeMessage(queryMessage(name, RRType.TXT, { id: 9, options }));
}

const engine = () => new Engine(runtime, createUnits());
const padOf = (wire: Uint8Array) => decodeMessage(wire).edns?.options.find((o) => o.code === EdnsOptionCode.PADDING);

test('DoT and DoH answers to a padded query are a multiple of 468 bytes, even past one block', () => {
  for (const proto of ['tls', 'https'] as const) {
    for (const name of ['ns.t.lab.', 'big.t.lab.', 'missing.t.lab.']) {
      const wire = engine().handle(query(name, [paddingOption(0)]), via(proto)) as Uint8Array;
      assert.equal(wire.length % RESPONSE_PAD_BLOCK, 0, `${proto} ${name}: ${wire.length} bytes`);
      assert.ok(padOf(wire), `${proto} ${name} carries a Padding option`);
      assert.equal(decodeMessage(wire).id, 9);
    }
  }
  const big = engine().handle(query('big.t.lab.', [paddingOption(8)]), via('tls')) as Uint8Array;
  assert.equal(big.length, 2 * RESPONSE_PAD_BLOCK);
});

test('no padding over UDP/TCP, nor for an encrypted query that did not pad', () => {
  for (const proto of ['udp', 'tcp'] as const) {
    const wire = engine().handle(query('ns.t.lab.', [paddingOption(0)]), via(proto)) as Uint8Array;
    assert.equal(padOf(wire), undefined, proto);
  }
  const plain = engine().handle(query('ns.t.lab.', []), via('tls')) as Uint8Array;
  assert.equal(padOf(plain), undefined);
  assert.notEqual(plain.length % RESPONSE_PAD_BLOCK, 0);
  const noEdns = engine().handle(query('ns.t.lab.', undefined), via('https')) as Uint8Array;
  assert.equal(decodeMessage(noEdns).edns, undefined);
});

test('an unpadded DoT answer served from the cache is not padded for a later padded query', () => {
  const e = engine();
  e.handle(query('ns.t.lab.', []), via('tls'));
  e.handle(query('ns.t.lab.', []), via('tls'));
  const padded = e.handle(query('ns.t.lab.', [paddingOption(0)]), via('tls')) as Uint8Array;
  assert.equal(padded.length % RESPONSE_PAD_BLOCK, 0);
});
