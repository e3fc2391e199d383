// Deterministic random and mutated zone text for the parser fuzz test (zone-fuzz.test.ts), from the fixtures.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../sim/prng.js';

/** Fixture text cut into windows of whole lines (large files would make every input slow). */
export function loadCorpus(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (!n.endsWith('.md')) {
        const lines = readFileSync(p, 'latin1').split('\n');
        for (let i = 0; i < lines.length; i += 60) out.push(lines.slice(i, i + 60).join('\n'));
      }
    }
  };
  walk(root);
  return out;
}

const WORDS = [
  '$ORIGIN', '$TTL', '$INCLUDE', '$GENERATE', '@', '.', 'IN', 'CH', 'CLASS1', '3600', '1h30m', '0', '4294967296', '2147483647',
  'A', 'AAAA', 'NS', 'CNAME', 'DNAME', 'SOA', 'MX', 'TXT', 'SRV', 'CAA', 'HINFO', 'NAPTR', 'DS', 'DNSKEY', 'RRSIG', 'NSEC',
  'NSEC3', 'NSEC3PARAM', 'SVCB', 'HTTPS', 'TLSA', 'SSHFP', 'LOC', 'APL', 'ZONEMD', 'URI', 'TYPE65', 'TYPE0', 'TKEY', 'ANY',
  '\\#', '0', '4', '0a0b0c0d', 'ff', '198.51.100.1', '2001:db8::1', '::', 'www', 'a.b.c.', '*.w', 'x\\.y', '\\065\\066', '\\',
  '(', ')', '"', '""', '"a b"', ';c', '\n', '\n', '\t', '1-10', '0-3/2', '5-1', 'h$', '${1,3,x}', '${0,4,n}', '${-5,2,X}', '$$',
  '${', 'alpn=h2,h3', 'port=53', 'mandatory=alpn', 'key65000="x"', 'ech=AAA=', 'ipv4hint=198.51.100.2', 'AQID', '!', '-',
];

/** The `i`th input of a run with `seed`: a mutated corpus window, a splice of two, or a word soup. */
export function fuzzInput(corpus: readonly string[], seed: number, i: number): string {
  const rnd = mulberry32((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const mode = rnd();
  if (mode < 0.25) {
    // Word soup, mostly line-shaped: owner, then anything.
    let s = '';
    const n = 1 + Math.floor(rnd() * 40);
    for (let k = 0; k < n; k++) s += pick(WORDS) + (rnd() < 0.8 ? ' ' : '');
    return s;
  }
  let text = pick(corpus);
  if (mode < 0.4) {
    const other = pick(corpus).split('\n');
    const lines = text.split('\n');
    const at = Math.floor(rnd() * (lines.length + 1));
    lines.splice(at, Math.floor(rnd() * 3), ...other.slice(0, 1 + Math.floor(rnd() * 10)));
    text = lines.join('\n');
  }
  const edits = 1 + Math.floor(rnd() * 8);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (text.length + 1));
    const r = rnd();
    if (r < 0.3) text = text.slice(0, at) + pick(WORDS) + text.slice(at);
    else if (r < 0.5) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 20));
    else if (r < 0.7) text = text.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + text.slice(at + 1);
    else if (r < 0.8) text = text.slice(0, at) + pick(['(', ')', '"', '\\', ';', '\n', '$', '{', '}']) + text.slice(at);
    else if (r < 0.9) text = text.slice(0, at);
    else text = text.slice(0, at) + text.slice(Math.max(0, at - 50), at) + text.slice(at);
  }
  return text;
}
