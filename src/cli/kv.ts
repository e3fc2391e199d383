// fluxdns kv put|get: the Stateless DNS key-value store through a resolver (seed 003 §2).
import { kvGet, kvPut, kvPutIfAbsent, normalise } from '../client/kv.js';
import { EchoEncodingError } from '../echo/encoding.js';
import { parseFlags, UsageError } from './args.js';
import { CLIENT_FLAGS, methodFrom, stubFrom, typeFrom, zoneFrom } from './client-options.js';

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof EchoEncodingError) throw new UsageError(e.message);
    throw e;
  }
}

export const KV_PUT_FLAGS = {
  ...CLIENT_FLAGS,
  'if-absent': { type: 'boolean', help: 'store only when the key has no value yet; print the value that holds' },
} as const;
export const KV_GET_FLAGS = CLIENT_FLAGS;

export async function runKvPut(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, KV_PUT_FLAGS, true);
  if (positionals.length !== 2) throw new UsageError('usage: fluxdns kv put KEY VALUE --resolver IP[:PORT] --zone ZONE [--method M] [--type T] [--if-absent]');
  const [key, value] = positionals as [string, string];
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const type = typeFrom(values);
  const method = methodFrom(values, stub, values['if-absent'] ? 'if-absent' : 'put');
  if (values['if-absent']) {
    const r = await wrap(() => kvPutIfAbsent({ stub, zone }, { method, type }, key, value));
    process.stdout.write(`${key} = ${r.value ?? '(none)'} (${r.stored ? 'stored' : 'already present'}, ${method}, ${r.how})\n`);
    return r.value === undefined ? 1 : 0;
  }
  const r = await wrap(() => kvPut({ stub, zone }, { method, type }, key, value));
  process.stdout.write(`programmed ${r.query.name} via ${method}: resolver answered ${r.rcode}\n`);
  // Stored means the resolver now gives this value back: the programming answer says so, or a read does.
  if (r.rcode !== 'NOERROR') {
    process.stderr.write(`${key}: not stored: the resolver answered ${r.rcode}\n`);
    return 1;
  }
  const want = normalise({ method, type }, value);
  const now = r.answered ?? (await wrap(() => kvGet({ stub, zone }, { method, type }, key, `v${Date.now().toString(36)}`))).value;
  if (now !== want) {
    process.stderr.write(`${key}: not stored: the resolver ${now === undefined ? `gives no value back (${method} may not work through it: fluxdns probe tells)` : `holds ${now} (the first value stays until its TTL ends)`}\n`);
    return 1;
  }
  return 0;
}

export async function runKvGet(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, CLIENT_FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('usage: fluxdns kv get KEY --resolver IP[:PORT] --zone ZONE [--method M] [--type T]');
  const key = positionals[0]!;
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const type = typeFrom(values);
  const method = methodFrom(values, stub, 'put');
  const r = await wrap(() => kvGet({ stub, zone }, { method, type }, key, `g${Date.now().toString(36)}`));
  if (r.value === undefined) {
    process.stderr.write(`${key}: not found (${method}; ${r.query.name} answered ${r.rcode})\n`);
    return 1;
  }
  process.stdout.write(`${r.value}\n`);
  return 0;
}
