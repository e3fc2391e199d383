// Runs dig or kdig against 127.0.0.1 and parses the text output into a comparable structure.
import { execFile } from 'node:child_process';

export interface Rec {
  /** Owner name; lower-cased unless preserveCase was asked for. */
  name: string;
  ttl: number;
  class: string;
  type: string;
  /** Record data: whitespace collapsed, domain names lower-cased for name-bearing types. */
  data: string;
}

export interface Question {
  name: string;
  class: string;
  type: string;
}

export interface DigResult {
  rcode: string;
  /** Header flags as printed by the tool: qr aa tc rd ra ad cd. */
  flags: Set<string>;
  id: number;
  question: Question | null;
  answer: Rec[];
  authority: Rec[];
  /** Additional section without the OPT pseudo-record. */
  additional: Rec[];
  /** True when the response carried an OPT record. */
  edns: boolean;
  /** Extended DNS error / EDNS status line if any (kdig/dig print it as part of the OPT section). */
  ednsText: string;
  raw: string;
}

export interface DigOptions {
  tool?: 'dig' | 'kdig';
  tcp?: boolean;
  /** false: no EDNS; number: EDNS with that UDP payload size; undefined: tool default (EDNS on). */
  edns?: false | number;
  /** Keep owner names (and question name) exactly as printed. */
  preserveCase?: boolean;
  /** Extra raw arguments passed to the tool before the query name. */
  extra?: string[];
  /** Address to query; 127.0.0.1 by default (::1 also allowed). */
  server?: '127.0.0.1' | '::1';
  class?: string;
}

/** Record types whose rdata contains domain names, lower-cased for comparison. */
const NAME_BEARING = new Set(['NS', 'CNAME', 'DNAME', 'PTR', 'MX', 'SRV', 'SOA', 'NAPTR', 'RP', 'AFSDB', 'KX', 'MINFO', 'MB', 'MG', 'MR', 'PX', 'RT', 'NSEC']);

function normalizeData(type: string, data: string): string {
  const collapsed = data.replace(/\s+/g, ' ').trim();
  return NAME_BEARING.has(type.toUpperCase()) ? collapsed.toLowerCase() : collapsed;
}

function parseRecord(line: string, preserveCase: boolean): Rec | null {
  // kdig prefixes nothing; dig prints "name ttl class type data". Class may be missing in kdig
  // output for some modes, so locate the type after the TTL.
  const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.trim());
  if (!m) return null;
  const [, name, ttl, cls, type, data] = m as unknown as [string, string, string, string, string, string];
  return {
    name: preserveCase ? name : name.toLowerCase(),
    ttl: Number(ttl),
    class: cls.toUpperCase(),
    type: type.toUpperCase(),
    data: normalizeData(type, data ?? ''),
  };
}

/** Parses the text output of dig (9.18) or kdig (3.x). */
export function parseDig(raw: string, preserveCase = false): DigResult {
  const res: DigResult = {
    rcode: '',
    flags: new Set<string>(),
    id: -1,
    question: null,
    answer: [],
    authority: [],
    additional: [],
    edns: false,
    ednsText: '',
    raw,
  };
  let section: 'none' | 'question' | 'answer' | 'authority' | 'additional' | 'opt' = 'none';
  for (const lineRaw of raw.split('\n')) {
    const line = lineRaw.replace(/\r$/, '');
    const header = /->>HEADER<<-\s*opcode:\s*(\S+?)[,;]\s*status:\s*(\S+?)[,;]\s*id:\s*(\d+)/.exec(line);
    if (header) {
      res.rcode = header[2]!.toUpperCase();
      res.id = Number(header[3]);
      continue;
    }
    const flags = /^;;\s*flags:\s*([^;]*);/i.exec(line);
    if (flags && res.rcode !== '') {
      for (const f of flags[1]!.trim().split(/\s+/)) if (f) res.flags.add(f.toLowerCase());
      continue;
    }
    const sec = /^;;\s*(QUESTION|ANSWER|AUTHORITY|ADDITIONAL|OPT PSEUDO|EDNS PSEUDO)\s*SECTION/i.exec(line);
    if (sec) {
      const s = sec[1]!.toUpperCase();
      section = s === 'QUESTION' ? 'question' : s === 'ANSWER' ? 'answer' : s === 'AUTHORITY' ? 'authority' : s === 'ADDITIONAL' ? 'additional' : 'opt';
      if (section === 'opt') res.edns = true;
      continue;
    }
    if (line.trim() === '') {
      // A blank line ends the question section (the next section header may never come).
      if (section === 'question') section = 'none';
      continue;
    }
    if (section === 'opt') {
      if (line.startsWith(';')) {
        res.ednsText += line + '\n';
        continue;
      }
      section = 'none';
    }
    if (section === 'question') {
      // dig: ";Name.  IN  A"   kdig: ";; Name.  IN  A"
      const q = /^;+\s*(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (q && !res.question) res.question = { name: preserveCase ? q[1]! : q[1]!.toLowerCase(), class: q[2]!.toUpperCase(), type: q[3]!.toUpperCase() };
      continue;
    }
    if (line.startsWith(';')) {
      // ";; Received ..." ends the message; other comment lines are ignored.
      if (/^;;\s*(Received|Query time|SERVER|WHEN|MSG SIZE|From )/i.test(line)) section = 'none';
      continue;
    }
    if (section === 'answer' || section === 'authority' || section === 'additional') {
      const rec = parseRecord(line, preserveCase);
      if (!rec) continue;
      if (rec.type === 'OPT') {
        res.edns = true;
        continue;
      }
      res[section].push(rec);
    }
  }
  return res;
}

export class DigError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Builds the command line for dig/kdig. */
export function digArgs(port: number, qname: string, qtype: string, opts: DigOptions = {}): string[] {
  const tool = opts.tool ?? 'dig';
  const args = [`@${opts.server ?? '127.0.0.1'}`, '-p', String(port), '+norec'];
  if (tool === 'dig') {
    args.push('+time=2', '+tries=1', '+nocookie', '+noadflag', '+ignore');
    if (opts.tcp) args.push('+tcp');
    if (opts.edns === false) args.push('+noedns');
    else if (typeof opts.edns === 'number') args.push('+edns=0', `+bufsize=${opts.edns}`);
  } else {
    args.push('+time=2', '+retry=0', '+ignore', '+noadflag');
    if (opts.tcp) args.push('+tcp');
    if (typeof opts.edns === 'number') args.push(`+edns=0`, `+bufsize=${opts.edns}`);
    // kdig sends no EDNS unless asked, so edns === false needs no flag.
  }
  args.push(...(opts.extra ?? []));
  if (opts.class) args.push('-c', opts.class);
  args.push('-t', qtype, '-q', qname);
  return args;
}

/** Runs one query and parses the output. Throws DigError when no answer was received. */
export function dig(port: number, qname: string, qtype: string, opts: DigOptions = {}): Promise<DigResult> {
  const tool = opts.tool ?? 'dig';
  const args = digArgs(port, qname, qtype, opts);
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: 10000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const out = `${stdout}${stderr ? `\n${stderr}` : ''}`;
      const parsed = parseDig(stdout, opts.preserveCase ?? false);
      if (parsed.rcode === '') {
        reject(new DigError(`${tool} ${args.join(' ')}: no response parsed${error ? ` (${error.message})` : ''}\n${out}`, out));
        return;
      }
      resolve(parsed);
    });
  });
}

/**
 * The serial of the SOA `zone` is served with at `port`; undefined when the answer has no SOA or dig
 * fails (a secondary that does not serve the zone yet). `extra`: dig options, e.g. `+time=1` to poll.
 */
export async function soaSerial(port: number, zone: string, extra: string[] = []): Promise<number | undefined> {
  try {
    const soa = (await dig(port, zone, 'SOA', { extra })).answer.find((a) => a.type === 'SOA');
    return soa ? Number(soa.data.split(' ')[2]) : undefined;
  } catch {
    return undefined;
  }
}

/** One query of a dig batch: name, type, and extra dig options for it alone (e.g. '+tcp'). */
export interface BatchQuery {
  name: string;
  type: string;
  options?: string;
}

/**
 * Runs many queries in one dig process (`dig -f`), a few milliseconds each instead of a process per
 * query; results in the order of `queries`. dig prints each answer after a "; <<>> DiG … <<>> ARGS"
 * line, which tells them apart. Names must not hold blanks. Throws when one gets no parsed answer.
 */
export function digBatch(port: number, queries: readonly BatchQuery[], globalOptions: string[] = ['+bufsize=1232']): Promise<DigResult[]> {
  const line = (q: BatchQuery): string => `-q ${q.name} -t ${q.type}${q.options ? ` ${q.options}` : ''}`;
  const args = ['@127.0.0.1', '-p', String(port), '+norec', '+time=2', '+tries=2', '+nocookie', '+noadflag', '+ignore', ...globalOptions, '-f', '-'];
  return new Promise((resolve, reject) => {
    const child = execFile('dig', args, { timeout: 300000, maxBuffer: 1 << 30 }, (error, stdout) => {
      const byArgs = new Map<string, string>();
      for (const chunk of stdout.split(/^(?=; <<>> DiG )/m)) {
        const m = /^; <<>> DiG \S+ <<>> (.*)$/m.exec(chunk);
        if (m) byArgs.set(m[1]!.trim(), chunk);
      }
      const out: DigResult[] = [];
      for (const q of queries) {
        const chunk = byArgs.get(line(q));
        const parsed = chunk === undefined ? undefined : parseDig(chunk);
        if (!parsed || parsed.rcode === '') {
          reject(new DigError(`dig batch: no response parsed for ${line(q)}${error ? ` (${error.message})` : ''}`, chunk ?? ''));
          return;
        }
        out.push(parsed);
      }
      resolve(out);
    });
    child.stdin!.end(queries.map(line).join('\n') + '\n');
  });
}
