// IXFR differences applied to a secondary's records: a deletion of raw-type RDATA (here RP and AFSDB, held
// as { raw }) spelt in another case still finds the record (RFC 4343, RFC 4034 §6.2); other bytes do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDiffs, DiffError } from './zone-data.js';
import { applyDiff } from '../transfer/diff.js';
import { nameToWire } from '../wire/name.js';
import { RRClass, RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { Zone } from '../zone/tree.js';

const soa = (serial: number): ResourceRecord<SOARdata> => ({ name: 'ci.lab.', type: RRType.SOA, class: RRClass.IN, ttl: 60, data: { mname: 'ns.ci.lab.', rname: 'h.ci.lab.', serial, refresh: 1, retry: 1, expire: 9, minimum: 1 } });
const raw = (name: string, type: number, bytes: Uint8Array): ResourceRecord => ({ name, type, class: RRClass.IN, ttl: 60, data: { raw: bytes } });
const rp = (mbox: string, txt: string) => raw('x.ci.lab.', 17, new Uint8Array([...nameToWire(mbox), ...nameToWire(txt)]));
const afsdb = (host: string, sub = 1) => raw('x.ci.lab.', 18, new Uint8Array([0, sub, ...nameToWire(host)]));
const ns: ResourceRecord = { name: 'ci.lab.', type: RRType.NS, class: RRClass.IN, ttl: 60, data: { target: 'ns.ci.lab.' } };
const glue: ResourceRecord = { name: 'ns.ci.lab.', type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '198.51.100.1' } };

test('IXFR deletions of raw RDATA with names compare those names without case', () => {
  const records = [soa(1), ns, glue, rp('Admin.Ci.Lab.', 'Info.Ci.Lab.'), afsdb('AFS.ci.lab.')];
  const out = applyDiffs(records, [{ from: 1, to: 2, deleted: [rp('admin.ci.lab.', 'INFO.ci.lab.'), afsdb('afs.CI.lab.')], added: [] }], soa(2));
  assert.deepEqual(out.filter((r) => r.type === 17 || r.type === 18), []);
  // Different data (the AFSDB subtype) is not the same record: the step is refused.
  assert.throws(() => applyDiffs(records, [{ from: 1, to: 2, deleted: [afsdb('afs.ci.lab.', 2)], added: [] }], soa(2)), DiffError);
});

test("the primary's journal replay (applyDiff) folds the same way", () => {
  const z = Zone.build('ci.lab.', [soa(1), ns, glue, rp('Admin.Ci.Lab.', 'Info.Ci.Lab.')]);
  const next = applyDiff(z, { from: soa(1), to: soa(2), removed: [rp('ADMIN.ci.lab.', 'info.ci.lab.')], added: [] });
  assert.equal([...next.records()].filter((r) => r.type === 17).length, 0);
  assert.equal(next.serial, 2);
});
