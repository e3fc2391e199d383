// echo responder: every method's answer to seed 003's own example queries, section by section as printed.
// The seed's example addresses (134.34.165.165, 1.2.3.4) appear here only as text inside names and
// records; these tests send no traffic anywhere.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseName, isSubdomain } from '../../wire/name.js';
import { Rcode, RRType, type ResourceRecord, type TargetRdata } from '../../wire/types.js';
import { formatRecord } from '../../zone/format.js';
import { answerEcho } from './answer.js';
import type { EchoAnswer } from './records.js';
import { echoSchema, type EchoZoneConfig } from './schema.js';
import { ShortTimeCache } from './short-cache.js';

function zone(name: string, extra: Record<string, unknown> = {}): EchoZoneConfig {
  return echoSchema.parse([{ zone: name, ...extra }])[0]!;
}
const echo3 = zone('echo3.netfuture.ch');
const echo1 = zone('echo1.netfuture.ch', { negativeTtl: 60 });

/** dig-like lines, whitespace collapsed and lower-cased (the seed prints owners lower-case). */
const lines = (rrs: readonly ResourceRecord[]) => rrs.map((r) => formatRecord(r).replace(/\s+/g, ' ').toLowerCase());
const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

function ask(z: EchoZoneConfig, name: string, type: number, cache?: ShortTimeCache, now = 0): EchoAnswer {
  return answerEcho(z, parseName(name), type, cache, now);
}

function expectSections(a: EchoAnswer, want: { answer?: string[]; authority?: string[]; additional?: string[]; aa?: boolean; rcode?: number }) {
  assert.equal(a.rcode, want.rcode ?? Rcode.NOERROR, 'rcode');
  assert.equal(a.aa, want.aa ?? true, 'aa');
  assert.deepEqual(lines(a.answer), (want.answer ?? []).map(norm), 'answer');
  assert.deepEqual(lines(a.authority), (want.authority ?? []).map(norm), 'authority');
  assert.deepEqual(lines(a.additional), (want.additional ?? []).map(norm), 'additional');
}

describe('§2.3 the echo domain 00.@', () => {
  test('data.00.@ answers data', () => {
    expectSections(ask(echo3, '134.34.165.165.00.echo3.netfuture.ch.', RRType.A), {
      answer: ['134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
  test('anything left of a further .00. is ignored', () => {
    expectSections(ask(echo3, 'anything.00.134.34.165.165.00.echo3.netfuture.ch.', RRType.A), {
      answer: ['anything.00.134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
});

describe('§2.4 A: direct storage', () => {
  test('A', () => {
    expectSections(ask(echo3, '134.34.165.165.A.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: ['mynotebook.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
  // The seed prints TTL 86400 for its TXT and SRV examples; with ttl: 86400 the output is the same.
  const ttl86400 = zone('echo3.netfuture.ch', { ttl: 86400 });
  test('TXT', () => {
    expectSections(ask(ttl86400, 'key=value.A.mynotebook.echo3.netfuture.ch.', RRType.TXT), {
      answer: ['mynotebook.echo3.netfuture.ch. 86400 IN TXT "key=value"'],
    });
  });
  test('SRV', () => {
    expectSections(ask(ttl86400, 'host.name-22.A.mynotebook.echo3.netfuture.ch.', RRType.SRV), {
      answer: ['mynotebook.echo3.netfuture.ch. 86400 IN SRV 0 1 22 host.name.'],
    });
  });
});

describe('§2.5 C*: CNAME aliasing', () => {
  test('CA', () => {
    expectSections(ask(echo3, '134.34.165.165.CA.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: ['134.34.165.165.ca.mynotebook.echo3.netfuture.ch. 10000 IN CNAME mynotebook.echo3.netfuture.ch.', 'mynotebook.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
  test('CU', () => {
    expectSections(ask(echo3, 'stateless.dns.CU.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: ['stateless.dns.CU.mynotebook.echo3.netfuture.ch. 10000 IN CNAME stateless.dns.xy.'],
    });
  });
});

describe('§2.6 CC*: CNAME chaining', () => {
  test('CCA', () => {
    expectSections(ask(echo3, '134.34.165.165.cca.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: [
        '134.34.165.165.cca.mynotebook.echo3.netfuture.ch. 10000 IN CNAME mynotebook.echo3.netfuture.ch.',
        'mynotebook.echo3.netfuture.ch. 10000 IN CNAME 134.34.165.165.00.echo3.netfuture.ch.',
        '134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165',
      ],
    });
  });
  test('CCX (as CCA without the A record)', () => {
    expectSections(ask(echo3, '134.34.165.165.ccx.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: [
        '134.34.165.165.ccx.mynotebook.echo3.netfuture.ch. 10000 IN CNAME mynotebook.echo3.netfuture.ch.',
        'mynotebook.echo3.netfuture.ch. 10000 IN CNAME 134.34.165.165.00.echo3.netfuture.ch.',
      ],
    });
  });
  test('CCU', () => {
    expectSections(ask(echo3, 'stateless-dns.ccu.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: ['stateless-dns.ccu.mynotebook.echo3.netfuture.ch. 10000 IN CNAME mynotebook.echo3.netfuture.ch.', 'mynotebook.echo3.netfuture.ch. 10000 IN CNAME stateless-dns.xy.'],
    });
  });
});

describe('§2.7 D*: DNAME aliasing', () => {
  test('DA', () => {
    expectSections(ask(echo3, '134.34.165.165.da.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: [
        'mynotebook.echo3.netfuture.ch. 10000 IN DNAME 00.134.34.165.165.00.echo3.netfuture.ch.',
        '134.34.165.165.da.00.134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165',
      ],
    });
  });
  test('DA target: anything before the second 00 is ignored', () => {
    expectSections(ask(echo3, 'anything.00.134.34.165.165.00.echo3.netfuture.ch.', RRType.A), {
      answer: ['anything.00.134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
  test('DX', () => {
    expectSections(ask(echo3, '134.34.165.165.dx.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: ['mynotebook.echo3.netfuture.ch. 10000 IN DNAME 00.134.34.165.165.00.echo3.netfuture.ch.'],
    });
  });
  test('DU', () => {
    expectSections(ask(echo3, 'stateless-dns.du.mynotebook.echo3.netfuture.ch.', RRType.A), {
      answer: [
        'mynotebook.echo3.netfuture.ch. 10000 IN DNAME 00.stateless-dns.xy.',
        'stateless-dns.du.mynotebook.echo3.netfuture.ch. 10000 IN CNAME stateless-dns.du.00.stateless-dns.xy.',
      ],
    });
  });
  test('§2.7.4 retrieve-or-store: the second store is answered with the first data', () => {
    expectSections(ask(echo3, '134.34.205.68.da.00.134.34.165.165.00.echo3.netfuture.ch.', RRType.A), {
      answer: ['134.34.205.68.da.00.134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
  test('a substitution longer than 255 octets is YXDOMAIN with the DNAME (RFC 6672 §2.2)', () => {
    const data = Array.from({ length: 3 }, (_, i) => String(i).repeat(40)).join('.');
    const a = ask(echo3, `${data}.du.al.echo3.netfuture.ch.`, RRType.A);
    assert.equal(a.rcode, Rcode.YXDOMAIN);
    assert.deepEqual(a.answer.map((r) => r.type), [RRType.DNAME]);
  });
});

describe('§2.8 N*: dynamic delegation', () => {
  test('NA', () => {
    expectSections(ask(echo1, '134.34.165.165.na.mynotebook.echo1.netfuture.ch.', RRType.A), {
      aa: false,
      authority: ['mynotebook.echo1.netfuture.ch. 86400 IN NS 134.34.165.165.00.echo1.netfuture.ch.'],
      additional: ['134.34.165.165.00.echo1.netfuture.ch. 86400 IN A 134.34.165.165'],
    });
  });
  test('NU', () => {
    expectSections(ask(echo1, 'stateless-dns.nu.mynotebook.echo1.netfuture.ch.', RRType.A), {
      aa: false,
      authority: ['mynotebook.echo1.netfuture.ch. 86400 IN NS stateless-dns.xy.'],
    });
  });
  test('NR', () => {
    expectSections(ask(echo1, '134.34.165.176.nr.mynotebook.echo1.netfuture.ch.', RRType.A), {
      aa: false,
      authority: ['mynotebook.echo1.netfuture.ch. 86400 IN NS nr.mynotebook.echo1.netfuture.ch.'],
      additional: ['nr.mynotebook.echo1.netfuture.ch. 86400 IN A 134.34.165.176'],
    });
  });
  test('NR for public service discovery (§3.1.2)', () => {
    expectSections(ask(echo1, '134.34.165.176.nr._presence_tcp.echo1.netfuture.ch.', RRType.A), {
      aa: false,
      authority: ['_presence_tcp.echo1.netfuture.ch. 86400 IN NS nr._presence_tcp.echo1.netfuture.ch.'],
      additional: ['nr._presence_tcp.echo1.netfuture.ch. 86400 IN A 134.34.165.176'],
    });
  });
  test('nr.alias.@ is NODATA, not NXDOMAIN (footnote 9)', () => {
    const a = ask(echo1, 'nr.mynotebook.echo1.netfuture.ch.', RRType.A);
    expectSections(a, { authority: [lines([{ ...soa(echo1), ttl: 60 }])[0]!] });
  });
  test('an IPv6 name server address becomes AAAA glue', () => {
    const a = ask(echo1, '2001-db8--53.nr.box.echo1.netfuture.ch.', RRType.A);
    assert.deepEqual(lines(a.additional), ['nr.box.echo1.netfuture.ch. 86400 in aaaa 2001:db8::53']);
  });
});

function soa(z: EchoZoneConfig): ResourceRecord {
  return ask(z, z.zone, RRType.SOA).answer[0]!;
}

describe('§2.9 short-time caching', () => {
  const stc = zone('echo3.netfuture.ch', { shortTimeCache: { enabled: true, maxEntries: 2, maxAgeSeconds: 30 } });
  const cache = () => new ShortTimeCache(2, 30000);

  test('CA: the alias answers once, then forgets', () => {
    const c = cache();
    ask(stc, '134.34.165.165.ca.mynotebook.echo3.netfuture.ch.', RRType.A, c, 0);
    expectSections(ask(stc, 'mynotebook.echo3.netfuture.ch.', RRType.A, c, 1000), { answer: ['mynotebook.echo3.netfuture.ch. 10000 IN A 134.34.165.165'] });
    assert.equal(ask(stc, 'mynotebook.echo3.netfuture.ch.', RRType.A, c, 1001).answer.length, 0);
  });
  test('CCA: the retrieving answer the seed prints (§2.6.1)', () => {
    const c = cache();
    ask(stc, '134.34.165.165.cca.mynotebook.echo3.netfuture.ch.', RRType.A, c, 0);
    expectSections(ask(stc, 'mynotebook.echo3.netfuture.ch.', RRType.A, c, 0), {
      answer: ['mynotebook.echo3.netfuture.ch. 10000 IN CNAME 134.34.165.165.00.echo3.netfuture.ch.', '134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165'],
    });
  });
  test('DA: a name below the alias gets the DNAME, its CNAME and the data (§2.7.1 retrieval)', () => {
    const c = cache();
    ask(stc, '134.34.165.165.da.mynotebook.echo3.netfuture.ch.', RRType.A, c, 0);
    expectSections(ask(stc, 'anything.mynotebook.echo3.netfuture.ch.', RRType.A, c, 0), {
      answer: [
        'mynotebook.echo3.netfuture.ch. 10000 IN DNAME 00.134.34.165.165.00.echo3.netfuture.ch.',
        'anything.mynotebook.echo3.netfuture.ch. 10000 IN CNAME anything.00.134.34.165.165.00.echo3.netfuture.ch.',
        'anything.00.134.34.165.165.00.echo3.netfuture.ch. 10000 IN A 134.34.165.165',
      ],
    });
  });
  test('NR: the delegation is repeated for a name below the alias', () => {
    const c = cache();
    ask(stc, '198.51.100.53.nr.box.echo3.netfuture.ch.', RRType.A, c, 0);
    const a = ask(stc, 'www.box.echo3.netfuture.ch.', RRType.A, c, 0);
    assert.deepEqual(lines(a.authority), ['box.echo3.netfuture.ch. 86400 in ns nr.box.echo3.netfuture.ch.']);
  });
  test('a retrieval of another type leaves the entry for the right one', () => {
    const c = cache();
    ask(stc, '198.51.100.7.ca.box.echo3.netfuture.ch.', RRType.A, c, 0);
    assert.equal(ask(stc, 'box.echo3.netfuture.ch.', RRType.AAAA, c, 0).answer.length, 0);
    assert.equal(ask(stc, 'box.echo3.netfuture.ch.', RRType.A, c, 0).answer.length, 1);
  });
  test('age bound: an entry older than maxAgeSeconds is gone', () => {
    const c = cache();
    ask(stc, '198.51.100.7.ca.box.echo3.netfuture.ch.', RRType.A, c, 0);
    assert.equal(ask(stc, 'box.echo3.netfuture.ch.', RRType.A, c, 30000).answer.length, 0);
    assert.equal(c.size, 0);
  });
  test('entry bound: the oldest alias is pushed out', () => {
    const c = cache();
    for (const alias of ['one', 'two', 'three']) ask(stc, `198.51.100.7.ca.${alias}.echo3.netfuture.ch.`, RRType.A, c, 0);
    assert.equal(c.size, 2);
    assert.equal(ask(stc, 'one.echo3.netfuture.ch.', RRType.A, c, 0).answer.length, 0);
    assert.equal(ask(stc, 'three.echo3.netfuture.ch.', RRType.A, c, 0).answer.length, 1);
  });
  test('without the cache the alias is NODATA, not NXDOMAIN (names exist below it)', () => {
    ask(echo3, '198.51.100.7.ca.box.echo3.netfuture.ch.', RRType.A);
    const a = ask(echo3, 'box.echo3.netfuture.ch.', RRType.A);
    assert.equal(a.rcode, Rcode.NOERROR);
    assert.equal(a.answer.length, 0);
  });
});

describe('apex, name server and negative answers', () => {
  const z = zone('echo.lab', { nsAddress: ['198.51.100.53', '2001:db8::53'], negativeTtl: 60 });
  test('SOA and NS at the apex, the NS address from configuration', () => {
    expectSections(ask(z, 'echo.lab.', RRType.SOA), { answer: ['echo.lab. 86400 IN SOA ns.echo.lab. hostmaster.echo.lab. 1 3600 600 86400 60'] });
    expectSections(ask(z, 'echo.lab.', RRType.NS), {
      answer: ['echo.lab. 86400 IN NS ns.echo.lab.'],
      additional: ['ns.echo.lab. 86400 IN A 198.51.100.53', 'ns.echo.lab. 86400 IN AAAA 2001:db8::53'],
    });
    expectSections(ask(z, 'ns.echo.lab.', RRType.AAAA), { answer: ['ns.echo.lab. 86400 IN AAAA 2001:db8::53'] });
  });
  const soaNeg = 'echo.lab. 60 IN SOA ns.echo.lab. hostmaster.echo.lab. 1 3600 600 86400 60';
  test('data that does not parse for the type is NODATA', () => {
    expectSections(ask(z, '198.51.100.7.a.box.echo.lab.', RRType.SRV), { authority: [soaNeg] });
    expectSections(ask(z, '198.51.100.a.box.echo.lab.', RRType.A), { authority: [soaNeg] });
    expectSections(ask(z, '198.51.100.7.a.box.echo.lab.', RRType.MX), { authority: [soaNeg] });
    expectSections(ask(z, 'nope.na.box.echo.lab.', RRType.A), { authority: [soaNeg] });
    expectSections(ask(z, '00.echo.lab.', RRType.A), { authority: [soaNeg] });
  });
  test('a label that is not a method is NXDOMAIN', () => {
    expectSections(ask(z, '198.51.100.7.zz.box.echo.lab.', RRType.A), { rcode: Rcode.NXDOMAIN, authority: [soaNeg] });
    expectSections(ask(z, 'anything.box.echo.lab.', RRType.A), { rcode: Rcode.NXDOMAIN, authority: [soaNeg] });
  });
  test('AAAA, TXT with escapes, SRV through the echo domain', () => {
    expectSections(ask(z, '2001-db8--7.00.echo.lab.', RRType.AAAA), { answer: ['2001-db8--7.00.echo.lab. 10000 IN AAAA 2001:db8::7'] });
    expectSections(ask(z, '%4bey=a%20b.c.00.echo.lab.', RRType.TXT), { answer: ['%4bey=a%20b.c.00.echo.lab. 10000 IN TXT "key=a b.c"'] });
    expectSections(ask(z, 'web.lab-8080.00.echo.lab.', RRType.SRV), { answer: ['web.lab-8080.00.echo.lab. 10000 IN SRV 0 1 8080 web.lab.'] });
  });
});

describe('bailiwick (DESIGN.md): no record outside the echo zone, except the .xy targets', () => {
  const z = zone('echo.lab');
  const label = fc.oneof(
    fc.constantFrom('00', 'a', 'ca', 'cu', 'cca', 'ccx', 'ccu', 'da', 'dx', 'du', 'na', 'nu', 'nr', 'DA', 'xy', '198', '51', '7', 'key=v', '2001-db8--1', 'h-80', 'box'),
    fc.stringMatching(/^[a-z0-9=%-]{1,12}$/),
  );
  test('random names under the zone (property)', () => {
    fc.assert(
      fc.property(fc.array(label, { minLength: 0, maxLength: 9 }), fc.constantFrom(RRType.A, RRType.AAAA, RRType.TXT, RRType.SRV, RRType.NS, RRType.ANY, RRType.DNAME), (labels, type) => {
        const name = [...labels, 'echo.lab.'].join('.');
        const a = answerEcho(z, parseName(name), type, new ShortTimeCache(10, 1000), 0);
        for (const r of [...a.answer, ...a.authority, ...a.additional]) {
          assert.ok(isSubdomain(r.name, 'echo.lab.'), `${formatRecord(r)} for ${name}`);
          if (r.type === RRType.CNAME || r.type === RRType.DNAME || r.type === RRType.NS) {
            const t = (r.data as TargetRdata).target;
            assert.ok(isSubdomain(t, 'echo.lab.') || isSubdomain(t, 'xy.'), `${formatRecord(r)} for ${name}`);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('configuration', () => {
  test('defaults', () => {
    assert.deepEqual(zone('echo.lab'), {
      zone: 'echo.lab.',
      ttl: 10000,
      nsTtl: 86400,
      negativeTtl: 0,
      ns: 'ns.echo.lab.',
      nsAddress: [],
      shortTimeCache: { enabled: false, maxEntries: 10000, maxAgeSeconds: 60 },
    });
  });
  test('overlapping zones and bad values are refused with the path', () => {
    const r = echoSchema.safeParse([{ zone: 'echo.lab' }, { zone: 'x.echo.lab' }]);
    assert.ok(!r.success && r.error.issues.some((i) => i.path.join('.') === '1.zone' && /overlap/.test(i.message)));
    const bad = echoSchema.safeParse([{ zone: 'echo.lab', nsAddress: 'nope', shortTimeCache: { maxEntries: 0 } }]);
    assert.ok(!bad.success);
    assert.deepEqual(bad.error.issues.map((i) => i.path.join('.')).sort(), ['0.nsAddress', '0.shortTimeCache.maxEntries']);
  });
});
