// The UPDATE the crash tests send in bursts: an A and a TXT at u<i> (both kinds of data, so a half-applied
// update shows as one without the other after a restart).
import { addRecordsUpdate } from '../../src/client/update.js';
import { RRClass, RRType, type Message } from '../../src/wire/types.js';

export function burstUpdate(i: number, zone: string): Message {
  return addRecordsUpdate(i, zone, [
    { name: `u${i}.${zone}`, type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: `198.51.100.${(i % 250) + 1}` } },
    { name: `u${i}.${zone}`, type: RRType.TXT, class: RRClass.IN, ttl: 60, data: { strings: [new TextEncoder().encode(`update ${i}`)] } },
  ]);
}
