// Tests for the CIDR module: parsing, containment, covering, prefix of an address and host bits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains,
  cidrCovers,
  cidrOverlaps,
  cidrSize,
  formatAddress,
  formatCidr,
  parseAddress,
  parseCidr,
  parseCidrResult,
  prefixOf,
  withHostBits,
} from './cidr.js';

const addr = (s: string) => {
  const a = parseAddress(s);
  assert.ok(a, `parse ${s}`);
  return a;
};
const cidr = (s: string) => {
  const c = parseCidr(s);
  assert.ok(c, `parse ${s}`);
  return c;
};

describe('parseAddress', () => {
  it('parses IPv4 and IPv6 and unmaps IPv4-mapped IPv6', () => {
    assert.deepEqual(addr('198.18.0.1'), { family: 4, bytes: Uint8Array.of(198, 18, 0, 1) });
    assert.equal(addr('2001:db8::1').family, 6);
    assert.equal(formatAddress(addr('2001:DB8:0:0::1')), '2001:db8::1');
    assert.deepEqual(addr('::ffff:127.1.2.3'), { family: 4, bytes: Uint8Array.of(127, 1, 2, 3) });
    assert.equal(formatAddress(addr('fe80::1%eth0')), 'fe80::1');
  });
  it('rejects non-addresses', () => {
    for (const s of ['', '1.2.3', '1.2.3.256', '01.2.3.4', 'example.com', '2001:db8:::1', '1.2.3.4/8']) {
      assert.equal(parseAddress(s), undefined, s);
    }
  });
});

describe('parseCidr', () => {
  it('parses prefixes of both families and bare addresses as host prefixes', () => {
    assert.equal(formatCidr(cidr('198.18.0.0/15')), '198.18.0.0/15');
    assert.equal(formatCidr(cidr('2001:db8::/32')), '2001:db8::/32');
    assert.equal(formatCidr(cidr('203.0.113.7')), '203.0.113.7/32');
    assert.equal(formatCidr(cidr('::1')), '::1/128');
    assert.equal(formatCidr(cidr('0.0.0.0/0')), '0.0.0.0/0');
    assert.equal(formatCidr(cidr('::/0')), '::/0');
  });
  it('rejects host bits in strict mode and clears them otherwise', () => {
    const r = parseCidrResult('198.18.0.1/16');
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /host bits set.*198\.18\.0\.0\/16/);
    assert.equal(formatCidr(parseCidr('198.18.0.1/16', false)!), '198.18.0.0/16');
    assert.equal(formatCidr(parseCidr('2001:db8:ffff::1/33', false)!), '2001:db8:8000::/33');
  });
  it('rejects bad lengths and addresses with a message saying what was expected', () => {
    for (const s of ['198.18.0.0/33', '198.18.0.0/', '198.18.0.0/08', '2001:db8::/129', '198.18.0.0/-1', 'x/8', '']) {
      const r = parseCidrResult(s);
      assert.equal(r.ok, false, s);
      assert.match(r.ok ? '' : r.error, /expected/, s);
    }
  });
});

describe('containment', () => {
  it('matches addresses inside the prefix only, at every bit boundary', () => {
    const c = cidr('198.18.64.0/21');
    assert.ok(cidrContains(c, addr('198.18.64.0')));
    assert.ok(cidrContains(c, addr('198.18.71.255')));
    assert.ok(!cidrContains(c, addr('198.18.72.0')));
    assert.ok(!cidrContains(c, addr('198.18.63.255')));
    assert.ok(cidrContains(cidr('0.0.0.0/0'), addr('203.0.113.9')));
    assert.ok(!cidrContains(cidr('0.0.0.0/0'), addr('2001:db8::1')), 'families never mix');
    assert.ok(cidrContains(cidr('2001:db8::/32'), addr('2001:db8:ffff::1')));
    assert.ok(!cidrContains(cidr('2001:db8::/32'), addr('2001:db9::1')));
    assert.ok(cidrContains(cidr('127.0.0.0/8'), addr('::ffff:127.9.9.9')), 'mapped IPv4 matches IPv4 prefixes');
    assert.ok(cidrContains(cidr('198.18.0.1'), addr('198.18.0.1')));
    assert.ok(!cidrContains(cidr('198.18.0.1'), addr('198.18.0.2')));
  });
  it('covers and overlaps', () => {
    assert.ok(cidrCovers(cidr('198.18.0.0/15'), cidr('198.19.4.0/24')));
    assert.ok(!cidrCovers(cidr('198.19.4.0/24'), cidr('198.18.0.0/15')));
    assert.ok(cidrCovers(cidr('198.18.0.0/15'), cidr('198.18.0.0/15')));
    assert.ok(!cidrCovers(cidr('198.18.0.0/16'), cidr('198.19.0.0/16')));
    assert.ok(cidrOverlaps(cidr('198.19.4.0/24'), cidr('198.18.0.0/15')));
    assert.ok(!cidrOverlaps(cidr('198.18.0.0/16'), cidr('198.19.0.0/16')));
    assert.ok(!cidrOverlaps(cidr('::/0'), cidr('0.0.0.0/0')));
  });
});

describe('prefixOf, withHostBits, cidrSize', () => {
  it('takes the prefix of an address', () => {
    assert.equal(formatCidr(prefixOf(addr('203.0.113.77'), 24)), '203.0.113.0/24');
    assert.equal(formatCidr(prefixOf(addr('2001:db8:1:2:3:4:5:6'), 48)), '2001:db8:1::/48');
    assert.equal(formatCidr(prefixOf(addr('203.0.113.77'), 0)), '0.0.0.0/0');
    assert.throws(() => prefixOf(addr('203.0.113.77'), 33), RangeError);
  });
  it('fills host bits from the given bytes and keeps the prefix', () => {
    const ones = new Uint8Array(16).fill(0xff);
    assert.equal(formatAddress(withHostBits(cidr('198.18.0.0/15'), ones)), '198.19.255.255');
    assert.equal(formatAddress(withHostBits(cidr('198.18.0.0/15'), new Uint8Array(4))), '198.18.0.0');
    assert.equal(formatAddress(withHostBits(cidr('2001:db8::/32'), ones)), '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
    assert.equal(formatAddress(withHostBits(cidr('203.0.113.5/32'), ones)), '203.0.113.5');
    assert.throws(() => withHostBits(cidr('2001:db8::/32'), new Uint8Array(4)), RangeError);
  });
  it('counts addresses', () => {
    assert.equal(cidrSize(cidr('198.18.0.0/15')), 131072n);
    assert.equal(cidrSize(cidr('2001:db8::/32')), 1n << 96n);
    assert.equal(cidrSize(cidr('203.0.113.5')), 1n);
  });
});
