// Grant-latency load: A queries for a subnet-scoped service, each with a new ECS address, so each one is a new lease.
//
// Run by bench/grants.ts (inside the gateway's namespace for nftables). Prints one JSON line:
// per-query latencies of a sequential phase and the rate of a concurrent phase.
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import packet from 'dns-packet';

const { values: v } = parseArgs({
  options: {
    server: { type: 'string', default: '127.0.0.1:5300' },
    name: { type: 'string', default: 'app.grants.lab' },
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
function encode(n: number, id: number): Buffer {
  const ip = `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
  return packet.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type: 'A', name: v.name! }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 32, scopePrefixLength: 0, ip }] } as unknown as packet.Answer],
  });
}

/** Sends one query (encoded beforehand when `pre` is given) and resolves with its latency in ms. */
function ask(pre?: Buffer): Promise<number> {
  const n = seq++;
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

for (let i = 0; i < Number(v.warmup); i++) await ask();
// The timed queries are encoded before the clock starts (each a new ECS address, so a new lease).
const seqN = Number(v.sequential);
const pre = Array.from({ length: seqN }, (_, i) => encode(seq + i, 0));
const latencies: number[] = [];
for (let i = 0; i < seqN; i++) latencies.push(await ask(pre[i]));

const total = Number(v.concurrent);
let done = 0;
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: Number(v.inflight) }, async () => {
    while (done < total) {
      done++;
      await ask();
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
sock.close();
process.stdout.write(JSON.stringify({ latencies, concurrent: total, seconds }) + '\n');
