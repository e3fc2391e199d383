// The cost of serving a pre-signed zone with DO, in process: lookup + the DNSSEC step (src/dnssec/serve/) + encoding,
// CPU µs per query with and without DO over a 2,000-name zone signed here (a third each: answers, NXDOMAIN, wildcards).
// Usage: node --import tsx bench/dnssec-serve.ts nsec|nsec3
import { signZone } from '../test/helpers/dnssec-chain.js';
import { loadZoneFile } from '../src/zone/parser.js';
import { Zone, ZoneSet } from '../src/zone/tree.js';
import { lookup } from '../src/zone/lookup.js';
import { serveDnssec } from '../src/dnssec/serve/step.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { mkdtempSync } from 'node:fs';
const dir = mkdtempSync('/tmp/bench-');
const lines = ['$TTL 3600', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 198.51.100.1', '*.wild TXT "w"'];
for (let i = 0; i < 2000; i++) lines.push(`h${i} A 198.51.100.${i % 250}`);
const mode = (process.argv[2] ?? 'nsec') as 'nsec' | 'nsec3';
const z = signZone(dir, 'b.lab.', lines.join('\n'), mode);
const zones = new ZoneSet([Zone.build('b.lab.', loadZoneFile(z.file, 'b.lab.').records)]);
const names = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? `h${i}.b.lab.` : i % 3 === 1 ? `nx${i}.b.lab.` : `x${i}.wild.b.lab.`));
function run(doBit: boolean, n: number): number {
  const t = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const q = names[k % names.length]!;
    const r = lookup(zones, q, 1, { minimalAny: true });
    serveDnssec(r, q, 1, doBit);
    const m = queryMessage(q, 1);
    encodeMessage({ ...m, flags: { ...m.flags, qr: true }, answers: r.answer, authorities: r.authority, additionals: r.additional }, { maxSize: 1232 });
  }
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
}
run(true, 20000); run(false, 20000);
const res: Record<string, number[]> = { off: [], on: [] };
for (let round = 0; round < 5; round++) { res.off!.push(run(false, 30000)); res.on!.push(run(true, 30000)); }
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
console.log(mode, 'µs/query lookup+step+encode: no DO', med(res.off!).toFixed(2), 'DO', med(res.on!).toFixed(2), 'ratio', (med(res.on!) / med(res.off!)).toFixed(2));
