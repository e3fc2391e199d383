// Microbenchmark of the hot wire paths (run: node --import tsx bench/codec.ts); no assertions.

import { performance } from 'node:perf_hooks';
import { RRType, type Message } from '../src/wire/types.js';
import { decodeMessage, encodeMessage } from '../src/wire/message.js';
import { parseQuery } from '../src/wire/fastpath.js';
import { clientSubnetOption, cookieOption } from '../src/wire/edns.js';

const query = encodeMessage({
  id: 1,
  flags: { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: false, ad: true, cd: false, rcode: 0 },
  questions: [{ name: 'www.example.com.', type: RRType.A, class: 1 }],
  answers: [],
  authorities: [],
  additionals: [],
  edns: {
    udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0,
    options: [cookieOption({ client: new Uint8Array(8).fill(1) }), clientSubnetOption({ family: 1, sourcePrefix: 24, scopePrefix: 0, address: '198.51.100.0' })],
  },
});

const response: Message = {
  id: 1,
  flags: { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
  questions: [{ name: 'www.example.com.', type: RRType.A, class: 1 }],
  answers: [1, 2, 3, 4].map((i) => ({ name: 'www.example.com.', type: RRType.A, class: 1, ttl: 300, data: { address: `198.51.100.${i}` } })),
  authorities: [1, 2].map((i) => ({ name: 'example.com.', type: RRType.NS, class: 1, ttl: 300, data: { target: `ns${i}.example.com.` } })),
  additionals: [1, 2].map((i) => ({ name: `ns${i}.example.com.`, type: RRType.AAAA, class: 1, ttl: 300, data: { address: `2001:db8::${i}` } })),
  edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] },
};
const responseWire = encodeMessage(response);

function bench(name: string, fn: () => unknown): void {
  for (let i = 0; i < 20000; i++) fn();
  const n = 300000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const ms = performance.now() - t0;
  console.log(`${name.padEnd(28)} ${((n / ms) * 1000).toFixed(0).padStart(10)} ops/s  ${((ms * 1e6) / n).toFixed(0)} ns/op`);
}

bench('parseQuery (cookie+ECS)', () => parseQuery(query));
bench('encodeMessage (8 RRs)', () => encodeMessage(response, { maxSize: 1232 }));
bench('decodeMessage (8 RRs)', () => decodeMessage(responseWire));
