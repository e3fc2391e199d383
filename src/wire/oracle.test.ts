// Cross-checks against dns-packet as an independent oracle, in both directions.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { RRType, type Message, type Rdata, type ResourceRecord } from './types.js';
import { decodeMessage, encodeMessage } from './message.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
/** dns-packet writes names without the final dot. */
const pk = (name: string): string => (name === '.' ? '' : name.slice(0, -1));
const ours = (name: string): string => (name === '' || name === '.' ? '.' : `${name}.`);

interface Case {
  type: number;
  name: string;
  data: Rdata;
  /** The same data as dns-packet represents it. */
  packet: unknown;
}

const CASES: Case[] = [
  { type: RRType.A, name: 'A', data: { address: '198.51.100.7' }, packet: '198.51.100.7' },
  { type: RRType.AAAA, name: 'AAAA', data: { address: '2001:db8::53' }, packet: '2001:db8::53' },
  { type: RRType.NS, name: 'NS', data: { target: 'ns1.example.com.' }, packet: 'ns1.example.com' },
  { type: RRType.CNAME, name: 'CNAME', data: { target: 'Other.Example.net.' }, packet: 'Other.Example.net' },
  { type: RRType.DNAME, name: 'DNAME', data: { target: 'example.org.' }, packet: 'example.org' },
  { type: RRType.PTR, name: 'PTR', data: { target: 'host.example.com.' }, packet: 'host.example.com' },
  {
    type: RRType.SOA,
    name: 'SOA',
    data: { mname: 'ns1.example.com.', rname: 'hostmaster.example.com.', serial: 2024061501, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 },
    packet: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024061501, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 },
  },
  { type: RRType.MX, name: 'MX', data: { preference: 20, exchange: 'mx.example.com.' }, packet: { preference: 20, exchange: 'mx.example.com' } },
  { type: RRType.TXT, name: 'TXT', data: { strings: [enc('hello world'), enc('v=1'), new Uint8Array(0)] }, packet: [Buffer.from('hello world'), Buffer.from('v=1'), Buffer.alloc(0)] },
  { type: RRType.SRV, name: 'SRV', data: { priority: 10, weight: 60, port: 5060, target: 'sip.example.com.' }, packet: { priority: 10, weight: 60, port: 5060, target: 'sip.example.com' } },
  { type: RRType.CAA, name: 'CAA', data: { flags: 128, tag: 'issue', value: enc('ca.example.net') }, packet: { flags: 128, tag: 'issue', value: 'ca.example.net', issuerCritical: true } },
];

function header(): Message['flags'] {
  return { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 };
}

/** dns-packet's decoded rdata in our shape, for comparison. */
function normalize(type: number, d: unknown): unknown {
  switch (type) {
    case RRType.NS:
    case RRType.CNAME:
    case RRType.DNAME:
    case RRType.PTR:
      return ours(d as string);
    case RRType.SOA: {
      const s = d as { mname: string; rname: string };
      return { ...s, mname: ours(s.mname), rname: ours(s.rname) };
    }
    case RRType.MX: {
      const m = d as { preference: number; exchange: string };
      return { ...m, exchange: ours(m.exchange) };
    }
    case RRType.SRV: {
      const s = d as { target: string };
      return { ...s, target: ours(s.target) };
    }
    case RRType.TXT:
      return (d as Buffer[]).map((b) => Array.from(b));
    default:
      return d;
  }
}

function expectedNormal(c: Case): unknown {
  if (c.type === RRType.TXT) return (c.packet as Buffer[]).map((b) => Array.from(b));
  if (typeof c.packet === 'string' && c.type !== RRType.A && c.type !== RRType.AAAA) return ours(c.packet);
  if (c.type === RRType.SOA || c.type === RRType.MX || c.type === RRType.SRV) return normalize(c.type, c.packet);
  return c.packet;
}

describe('dns-packet oracle', () => {
  for (const c of CASES) {
    it(`${c.name}: ours → dns-packet`, () => {
      const rr: ResourceRecord = { name: 'www.example.com.', type: c.type, class: 1, ttl: 3600, data: c.data };
      const msg: Message = {
        id: 0xbeef,
        flags: header(),
        questions: [{ name: 'www.example.com.', type: c.type, class: 1 }],
        answers: [rr, rr],
        authorities: [],
        additionals: [],
        edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: true, z: 0, options: [{ code: 10, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }] },
      };
      const p = dnsPacket.decode(Buffer.from(encodeMessage(msg)));
      assert.equal(p.id, 0xbeef);
      assert.equal(p.flag_aa, true);
      assert.equal(p.flag_rd, true);
      assert.equal(p.questions?.[0]?.name, 'www.example.com');
      assert.equal(p.answers?.length, 2);
      for (const a of p.answers ?? []) {
        assert.equal(a.name, 'www.example.com');
        assert.equal(a.type, c.name);
        assert.equal((a as { ttl?: number }).ttl, 3600);
        assert.deepEqual(normalize(c.type, (a as { data: unknown }).data), expectedNormal(c));
      }
      const opt = p.additionals?.[0] as { type: string; udpPayloadSize: number; flag_do: boolean; options: Array<{ code: number; data: Buffer }> };
      assert.equal(opt.type, 'OPT');
      assert.equal(opt.udpPayloadSize, 1232);
      assert.equal(opt.flag_do, true);
      assert.deepEqual(Array.from(opt.options[0]!.data), [1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it(`${c.name}: dns-packet → ours`, () => {
      const buf = dnsPacket.encode({
        type: 'response',
        id: 77,
        flags: dnsPacket.AUTHORITATIVE_ANSWER,
        questions: [{ name: 'x.example.com', type: c.name as 'A', class: 'IN' }],
        answers: [{ name: 'x.example.com', type: c.name as 'A', class: 'IN', ttl: 60, data: c.packet as string }],
      });
      const m = decodeMessage(buf);
      assert.equal(m.id, 77);
      assert.equal(m.flags.aa, true);
      assert.equal(m.flags.qr, true);
      assert.deepEqual(m.questions, [{ name: 'x.example.com.', type: c.type, class: 1 }]);
      assert.equal(m.answers.length, 1);
      const a = m.answers[0]!;
      assert.equal(a.name, 'x.example.com.');
      assert.equal(a.ttl, 60);
      assert.deepEqual(a.data, c.data);
    });
  }

  it('dns-packet query with EDNS options → ours', () => {
    const buf = dnsPacket.encode({
      type: 'query',
      id: 9,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED,
      questions: [{ name: 'Mixed.Case.Example', type: 'AAAA', class: 'IN' }],
      additionals: [
        {
          name: '.',
          type: 'OPT',
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: dnsPacket.DNSSEC_OK,
          options: [{ code: 3, data: Buffer.alloc(0) }, { code: 'CLIENT_SUBNET', family: 2, sourcePrefixLength: 56, scopePrefixLength: 0, ip: '2001:db8:aa:bb00::' }],
        } as unknown as dnsPacket.Answer,
      ],
    });
    const m = decodeMessage(buf);
    assert.equal(m.questions[0]!.name, 'Mixed.Case.Example.');
    assert.equal(m.flags.cd, true);
    assert.equal(m.edns?.udpSize, 4096);
    assert.equal(m.edns?.dnssecOk, true);
    assert.deepEqual(m.edns?.options.map((o) => o.code), [3, 8]);
    assert.deepEqual(Array.from(m.edns!.options[1]!.data), [0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0xbb]);
  });
});
