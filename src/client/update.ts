// RFC 2136 UPDATE messages: decoding that allows the empty rdata of deletes and prerequisites (§2.4, §2.5),
// and building an "add these records" UPDATE for a zone.
import { Reader } from '../wire/reader.js';
import { rdataCodec } from '../wire/rdata/index.js';
import { wordToFlags } from '../wire/message.js';
import { Opcode, RRClass, RRType, WireError, type Flags, type Message, type Question, type Rdata, type ResourceRecord } from '../wire/types.js';

/** A record of the prerequisite or update section: `data` is undefined when RDLENGTH is 0. */
export interface UpdateRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Rdata | undefined;
}

export interface UpdateMessage {
  id: number;
  flags: Flags;
  /** RFC 2136 §2.3: exactly one zone, type SOA. */
  zone: Question[];
  prerequisites: UpdateRecord[];
  updates: UpdateRecord[];
  additional: UpdateRecord[];
}

function readRecord(r: Reader): UpdateRecord {
  const name = r.readName();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  if (r.pos + len > r.buf.length) throw new WireError(`RDLENGTH ${len} overruns the message`, r.pos - 2);
  if (len === 0) return { name, type, class: klass, ttl, data: undefined };
  const end = r.pos + len;
  const data = rdataCodec(type).decode(r, len);
  if (r.pos !== end) throw new WireError('rdata does not match RDLENGTH', r.pos);
  return { name, type, class: klass, ttl, data };
}

/** Decodes an UPDATE; throws WireError for malformed input (the server answers FORMERR). */
export function decodeUpdate(buf: Uint8Array): UpdateMessage {
  if (buf.length < 12) throw new WireError('message shorter than a header', 0);
  const r = new Reader(buf);
  const id = r.u16();
  const flags = wordToFlags(r.u16());
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const;
  const zone: Question[] = [];
  for (let i = 0; i < counts[0]; i++) zone.push({ name: r.readName(), type: r.u16(), class: r.u16() });
  const sections: UpdateRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) for (let i = 0; i < counts[s + 1]!; i++) sections[s]!.push(readRecord(r));
  if (r.pos !== buf.length) throw new WireError('bytes after the last record', r.pos);
  return { id, flags, zone, prerequisites: sections[0]!, updates: sections[1]!, additional: sections[2]! };
}

/** An UPDATE adding `records` (class IN) to `zone`, with no prerequisites (RFC 2136 §2.5.1). */
export function addRecordsUpdate(id: number, zone: string, records: ResourceRecord[]): Message {
  return {
    id,
    flags: { qr: false, opcode: Opcode.UPDATE, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: zone, type: RRType.SOA, class: RRClass.IN }],
    answers: [],
    authorities: records,
    additionals: [],
  };
}
