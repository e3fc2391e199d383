// Grant-latency load: A queries for a subnet-scoped service, each with a new ECS address, so each one is a new lease.
//
// Run by bench/grants.ts with --client node (the default is the C client, bench/grants-client.c, which adds no GC or
// JIT of its own). Prints the same JSON line: per-query latencies of a sequential phase (grants alternating with a
// cached static name, the floor of any answer) and the rate and latencies of a concurrent phase.
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import packet from 'dns-packet';

const { values: v } = parseArgs({
  options: {
    server: { type: 'string', default: '127.0.0.1:5300' },
    name: { type: 'string', default: 'app.grants.lab' },
    static: { type: 'string', default: 'ns.grants.lab' },
    sequential: { type: 'string', default: '500' },
    concurrent: { type: 'string', default: '5000' },
    inflight: { type: 'string', default: '64' },
    offset: { type: 'string', default: '0' },
    /** Grants made first and not timed: the server's JIT and its first GCs after start-up are not the grant path. */
    warmup: { type: 'string', default: '0' },
  },
});
const [host, port] = [v.server!.slice(0, v.server!.lastIndexOf(':')), Number(v.server!.slice(v.server!.lastIndexOf(':') + 1))];
const sock = dgram.createSocket('udp4');
await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
const waiting = new Map<number, (rcode: number, answers: number) => void>();
// The reply's header is read directly (ID, RCODE, ANCOUNT): decoding it would put the client's own
// allocation and GC inside the timed interval.
sock.on('message', (m) => {
  if (m.length < 12) return;
  waiting.get(m.readUInt16BE(0))?.(m[3]! & 0x0f, m.readUInt16BE(6));
});

let nextId = 1;
let seq = Number(v.offset);
/** One query with a fresh ECS /32 from 198.18.0.0/15: a new lease for a subnet-scoped service. */
function encode(n: number, id: number, name = v.name!): Buffer {
  const ip = `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
  return packet.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type: 'A', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 32, scopePrefixLength: 0, ip }] } as unknown as packet.Answer],
  });
}

/** Sends one query (encoded beforehand when `pre` is given) and resolves with its latency in ms. */
function ask(pre?: Buffer): Promise<number> {
  const n = pre ? -1 : seq++; // pre-encoded queries (timed grants, the static name) took their numbers already
  const id = nextId++ & 0xffff || nextId++;
  const q = pre ?? encode(n, id);
  if (pre) q.writeUInt16BE(id, 0);
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`query ${n} timed out`));
    }, 5000);
    waiting.set(id, (rcode, answers) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (rcode !== 0 || answers !== 1) reject(new Error(`query ${n}: rcode ${rcode}, ${answers} answers`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
    sock.send(q, port, host);
  });
}

const staticQuery = encode(0, 0, v.static!);
for (let i = 0; i < Number(v.warmup); i++) {
  await ask();
  if (i % 4 === 0) await ask(staticQuery);
}
// The timed queries are encoded before the clock starts (each a new ECS address, so a new lease).
const seqN = Number(v.sequential);
const pre = Array.from({ length: seqN }, (_, i) => encode(seq + i, 0));
seq += seqN;
const grant: number[] = [];
const stat: number[] = [];
for (let i = 0; i < seqN; i++) {
  grant.push(await ask(pre[i]));
  stat.push(await ask(staticQuery));
}

const total = Number(v.concurrent);
let done = 0;
const concurrentLatencies: number[] = [];
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: Number(v.inflight) }, async () => {
    while (done < total) {
      done++;
      concurrentLatencies.push(await ask());
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
sock.close();
process.stdout.write(JSON.stringify({ grant, static: stat, concurrent: total, seconds, concurrentLatencies }) + '\n');
