// Synthetic log generator: determinism by seed, and its statistics against the documented parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkParams, clientAddress, DAY, DIURNAL_AMPLITUDE, GEN_DEFAULTS, generate, resolverAddress, type GenParams } from './generate.js';

const P = (over: Partial<GenParams>): GenParams => ({ ...GEN_DEFAULTS, ...over });

test('the same seed gives the same log, another seed another', () => {
  const a = [...generate(P({ seconds: 60, seed: 7 }))];
  const b = [...generate(P({ seconds: 60, seed: 7 }))];
  const c = [...generate(P({ seconds: 60, seed: 8 }))];
  assert.ok(a.length > 1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.slice(0, 50), c.slice(0, 50));
  for (let i = 1; i < a.length; i++) assert.ok(a[i]!.time >= a[i - 1]!.time);
  assert.ok(a.every((x) => x.time >= 0 && x.time < 60));
});

test('Poisson arrivals: the count over a long run matches the rate, and gaps are exponential', () => {
  const log = [...generate(P({ seconds: 2000, rate: 40, seed: 3 }))];
  // Expected 80,000, standard deviation ≈ 283: 2 % is about 5.7 sigma.
  assert.ok(Math.abs(log.length - 80000) < 1600, `count ${log.length}`);
  // For an exponential gap with mean 1/40 s, P(gap > 1/40) = e^-1 ≈ 0.368.
  let longer = 0;
  for (let i = 1; i < log.length; i++) if (log[i]!.time - log[i - 1]!.time > 1 / 40) longer++;
  assert.ok(Math.abs(longer / log.length - Math.exp(-1)) < 0.02, `share of long gaps ${longer / log.length}`);
});

test('Zipf popularity: server k is chosen with probability ∝ 1/k^s', () => {
  const count = (p: GenParams): Map<string, number> => {
    const m = new Map<string, number>();
    for (const c of generate(p)) m.set(c.server, (m.get(c.server) ?? 0) + 1);
    return m;
  };
  const z = count(P({ seconds: 1000, rate: 100, servers: 50, zipf: 1, seed: 5 }));
  const r12 = z.get('srv1')! / z.get('srv2')!;
  const r14 = z.get('srv1')! / z.get('srv4')!;
  assert.ok(Math.abs(r12 - 2) < 0.1, `srv1/srv2 ${r12}`);
  assert.ok(Math.abs(r14 - 4) < 0.3, `srv1/srv4 ${r14}`);
  const uniform = count(P({ seconds: 1000, rate: 100, servers: 10, zipf: 0, seed: 5 }));
  for (const n of uniform.values()) assert.ok(Math.abs(n / 100000 - 0.1) < 0.005);
});

test('clients spread over /24s, each /24 behind one resolver', () => {
  const p = P({ seconds: 200, rate: 100, clients: 100, perSubnet: 10, resolvers: 3, seed: 9 });
  const clients = new Set<string>();
  for (const c of generate(p)) {
    clients.add(c.client);
    const m = /^198\.18\.(\d+)\.(\d+)$/.exec(c.client);
    assert.ok(m, c.client);
    const subnet = Number(m[1]);
    assert.ok(subnet < 10 && Number(m[2]) >= 1 && Number(m[2]) <= 10);
    assert.equal(c.resolver, resolverAddress(subnet % 3));
  }
  assert.equal(clients.size, 100); // 20,000 uniform draws from 100 clients reach them all
  assert.equal(clientAddress(0, 16), '198.18.0.1');
  assert.equal(clientAddress(17, 16), '198.18.1.2');
  assert.equal(resolverAddress(254), '198.19.1.1');
});

test('diurnal rate: a trough at t = 0, the peak 12 h later, the mean rate over a day', () => {
  const rate = 2;
  const log = [...generate(P({ seconds: DAY, rate, diurnal: true, seed: 11 }))];
  assert.ok(Math.abs(log.length - rate * DAY) < 0.02 * rate * DAY, `count ${log.length}`);
  // Expected in [a, b): rate·(b − a − A·DAY/2π·(sin(2πb/DAY) − sin(2πa/DAY))).
  const expected = (a: number, b: number): number => rate * (b - a - ((DIURNAL_AMPLITUDE * DAY) / (2 * Math.PI)) * (Math.sin((2 * Math.PI * b) / DAY) - Math.sin((2 * Math.PI * a) / DAY)));
  const inHour = (h: number): number => log.filter((c) => c.time >= h * 3600 && c.time < (h + 1) * 3600).length;
  for (const h of [0, 6, 12]) {
    const e = expected(h * 3600, (h + 1) * 3600);
    assert.ok(Math.abs(inHour(h) - e) < 0.06 * e, `hour ${h}: ${inHour(h)} vs ${e.toFixed(0)}`);
  }
  assert.ok(inHour(12) > 5 * inHour(0));
});

test('parameters out of range are refused with the flag and what was expected', () => {
  assert.equal(checkParams(GEN_DEFAULTS), undefined);
  assert.equal(checkParams(P({ clients: 5000, perSubnet: 16 })), '--clients: expected an integer from 1 to 4096, found 5000');
  assert.equal(checkParams(P({ rate: 0 })), '--rate: expected connections per second above 0 and at most 1000000, found 0');
  assert.equal(checkParams(P({ servers: 2.5 })), '--servers: expected an integer from 1 to 1000000, found 2.5');
});
