// Ceiling for any Node UDP server: answers every datagram with one fixed reply, copying only the 2-byte ID.
// Usage: node bench/bare-responder.mjs PORT   (binds 127.0.0.1:PORT, prints "bare ready" when listening)
import { createSocket } from 'node:dgram';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: node bench/bare-responder.mjs PORT\n');
  process.exit(2);
}

// h0.bench.lab. A -> 198.18.0.0, AA set: the size of a typical small positive answer.
const name = Buffer.from([2, 0x68, 0x30, 5, 0x62, 0x65, 0x6e, 0x63, 0x68, 3, 0x6c, 0x61, 0x62, 0]);
const reply = Buffer.concat([
  Buffer.from([0, 0, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0]), // ID, QR+AA, QD=1 AN=1
  name,
  Buffer.from([0, 1, 0, 1]), // A IN
  Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 18, 0, 0]), // ptr, A IN, TTL 3600, 198.18.0.0
]);

const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 2) return;
  // A fresh copy per reply: a send may still be queued when the next datagram arrives.
  const out = Buffer.allocUnsafe(reply.length);
  reply.copy(out);
  out[0] = msg[0];
  out[1] = msg[1];
  sock.send(out, rinfo.port, rinfo.address);
});
sock.on('error', (e) => {
  process.stderr.write(`bare responder: ${e.message}\n`);
  process.exit(1);
});
sock.bind(port, '127.0.0.1', () => process.stdout.write(`bare ready: udp 127.0.0.1:${port}\n`));
const stop = () => sock.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
