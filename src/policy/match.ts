// Compiled match attributes: each test says whether it holds and, for `explain`, why.
import { cidrContains, formatCidr, parseCidr, type Cidr } from '../net/cidr.js';
import { labelCount, parseName } from '../wire/name.js';
import { typeCode, typeName } from '../wire/types.js';
import type { QueryFacts } from './facts.js';
import type { MatchConfig, TimeWindow } from './schema.js';

export interface Test {
  /** e.g. `qname *.cdn.lab` */
  readonly label: string;
  holds(f: QueryFacts): boolean;
  /** Why it failed, for explain. */
  why(f: QueryFacts): string;
  /**
   * The qname test only, for a name it holds for (with `labels` labels): how many of its leading labels
   * the pattern left free — 0 for an exact name; for `*.S`, all but S's (the longest S that matched);
   * undefined for a regular expression, which fixes no suffix. rrl counts a policy's answers by the rest
   * (QueryContext.wildcardLabels, set by the policies unit), as it counts a zone wildcard's by its parent.
   */
  freeLabels?(f: QueryFacts, labels: number): number | undefined;
  /**
   * Present on the tests that read the question alone (qname, qtype), whose verdict is the same for every
   * client, time and transport: whether the test may hold for some name strictly below `encloser` (match
   * form: lower case, no final dot, '' for the root) asked with `qtype`. False lets a zone's answer for one
   * such name stand for all of them (PolicySet.passesBelow).
   */
  mayHoldBelow?(encloser: string, qtype: number): boolean;
}

export function compileMatch(m: MatchConfig): Test[] {
  const tests: Test[] = [];
  if (m.qname) tests.push(qnameTest(m.qname));
  if (m.qtype) {
    const codes = new Set(m.qtype.map((t) => typeCode(t)!));
    tests.push({ label: `qtype ${m.qtype.join('|')}`, holds: (f) => codes.has(f.qtype), why: (f) => `qtype is ${typeName(f.qtype)}`, mayHoldBelow: (_, qtype) => codes.has(qtype) });
  }
  if (m.clientSubnet) tests.push(clientSubnetTest(m.clientSubnet.map((c) => parseCidr(c)!)));
  if (m.resolver) {
    const cidrs = m.resolver.map((c) => parseCidr(c)!);
    tests.push({
      label: `resolver ${m.resolver.join('|')}`,
      holds: (f) => f.source !== undefined && cidrs.some((c) => cidrContains(c, f.source!)),
      why: () => 'the source address is in none of them',
    });
  }
  if (m.transport) {
    const set = new Set<string>(m.transport);
    tests.push({ label: `transport ${m.transport.join('|')}`, holds: (f) => set.has(f.transport), why: (f) => `transport is ${f.transport}` });
  }
  if (m.ecs) {
    const want = m.ecs === 'present';
    tests.push({ label: `ecs ${m.ecs}`, holds: (f) => (f.ecs !== undefined) === want, why: (f) => `ECS is ${f.ecs ? 'present' : 'absent'}` });
  }
  if (m.cookie && m.cookie !== 'any') {
    const want = m.cookie;
    tests.push({ label: `cookie ${want}`, holds: (f) => f.cookie === want, why: (f) => `cookie is ${f.cookie}` });
  }
  if (m.tsig && m.tsig !== 'any') {
    const want = m.tsig;
    tests.push({ label: `tsig ${want}`, holds: (f) => f.tsig.status === want, why: (f) => `tsig is ${f.tsig.status}` });
  }
  if (m.tsigKey) {
    const keys = new Set(m.tsigKey.map((k) => k.toLowerCase()));
    tests.push({
      label: `tsigKey ${m.tsigKey.join('|')}`,
      holds: (f) => f.tsig.status === 'valid' && keys.has(f.tsig.keyName!),
      why: (f) => (f.tsig.status === 'valid' ? `signed with ${f.tsig.keyName}` : `tsig is ${f.tsig.status}`),
    });
  }
  if (m.time) {
    const windows = m.time;
    tests.push({ label: 'time window', holds: (f) => windows.some((w) => inWindow(w, f.now)), why: (f) => `${f.now.toISOString()} is outside every window` });
  }
  return tests;
}

function qnameTest(patterns: string[]): Test {
  const exact = new Set<string>();
  /** `*.S` patterns as ".s" (the match form) and S's label count, longest first: the first that matches fixes the most. */
  const suffixes: { readonly text: string; readonly labels: number }[] = [];
  const regexes: RegExp[] = [];
  for (const p of patterns) {
    if (p.length > 1 && p.startsWith('/') && p.endsWith('/')) regexes.push(new RegExp(p.slice(1, -1), 'i'));
    else if (p.startsWith('*.')) {
      const name = parseName(p.slice(2), '.');
      suffixes.push({ text: '.' + stripDot(name), labels: labelCount(name) });
    } else exact.add(stripDot(parseName(p, '.')));
  }
  suffixes.sort((a, b) => b.labels - a.labels);
  return {
    label: `qname ${patterns.join('|')}`,
    holds: (f) => exact.has(f.qnameMatch) || suffixes.some((s) => f.qnameMatch.endsWith(s.text)) || regexes.some((r) => r.test(f.qnameMatch)),
    why: (f) => `qname is ${f.qname}`,
    freeLabels(f, labels) {
      if (exact.has(f.qnameMatch)) return 0;
      for (const s of suffixes) if (f.qnameMatch.endsWith(s.text)) return labels - s.labels;
      return undefined;
    },
    mayHoldBelow(e) {
      // A regular expression may match anything; `*.` (the root) every name.
      if (e === '' || regexes.length > 0) return true;
      const below = '.' + e;
      for (const x of exact) if (x.endsWith(below)) return true;
      // Names below both E and S exist unless neither name is a suffix of the other.
      for (const s of suffixes) if (s.text === '.' || s.text.endsWith(below) || below.endsWith(s.text)) return true;
      return false;
    },
  };
}

export function stripDot(name: string): string {
  const l = name.toLowerCase();
  return l === '.' ? '' : l.slice(0, -1);
}

/**
 * RFC 7871 §7.1.1/§7.2.1: with ECS, a CIDR can only be decided on the bits the client revealed: a /L
 * prefix needs a source prefix of at least L bits. Every prefix consulted counts toward the scope.
 */
function clientSubnetTest(cidrs: Cidr[]): Test {
  return {
    label: `clientSubnet ${cidrs.map(formatCidr).join("|")}`,
    holds(f) {
      if (f.ecs) {
        const e = f.ecs;
        let hit = false;
        for (const c of cidrs) {
          if (c.family !== e.address.family) continue;
          f.ecsBitsUsed = Math.max(f.ecsBitsUsed, Math.min(c.length, e.sourcePrefix));
          if (e.sourcePrefix >= c.length && cidrContains(c, e.address)) hit = true;
        }
        return hit;
      }
      return f.source !== undefined && cidrs.some((c) => cidrContains(c, f.source!));
    },
    why: (f) => (f.ecs ? `the client subnet (ECS /${f.ecs.sourcePrefix}) is in none of them` : 'the source address is in none of them'),
  };
}

const DAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(now: Date, tz: string): { day: number; minutes: number } {
  let fmt = formatters.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, fmt);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const p of fmt.formatToParts(now)) {
    if (p.type === 'weekday') day = DAY_INDEX[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day, minutes: hour * 60 + minute };
}

/** A window holds when every bound it sets holds; from > to wraps past midnight (22:00–06:00). */
export function inWindow(w: TimeWindow, now: Date): boolean {
  if (w.after && now < new Date(w.after)) return false;
  if (w.before && now >= new Date(w.before)) return false;
  if (!w.days && !w.from && !w.to) return true;
  const { day, minutes } = localParts(now, w.tz);
  if (w.days && !w.days.includes(DAY_NAMES[day] as (typeof w.days)[number])) return false;
  const from = w.from ? toMinutes(w.from) : 0;
  const to = w.to ? toMinutes(w.to) : 24 * 60;
  return from <= to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

function toMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}
