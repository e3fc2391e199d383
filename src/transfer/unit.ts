// xfr unit: the primary role's entry in the pipeline — AXFR/IXFR out (RFC 5936, RFC 1995), UPDATE in
// (RFC 2136), NOTIFY handed to the secondary role; each behind the zone's access list.
import { perConfig } from '../config/per-config.js';
import type { Config, ZoneConfig } from '../config/schema.js';
import { nameKey } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import { Opcode, Rcode, RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { TsigStreamSigner } from '../tsig/sign.js';
import type { QueryContext } from '../answer/context.js';
import { TSIG_PLAN } from '../modules/tsig/index.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../answer/unit.js';
import type { Zone } from '../zone/tree.js';
import { auditLine, checkAcl, compileAcl, RefusalLogLimit, requesterOf, type AclKind } from './acl.js';
import { axfrFrames } from './axfr-wire.js';
import { framed, packMessages, type TransferHead } from './messages.js';
import { serialGt } from './serial.js';

/** One difference between two versions of a zone (RFC 1995 §4): what went and what came, SOAs apart. */
export interface ZoneDiff {
  readonly from: ResourceRecord<SOARdata>;
  readonly to: ResourceRecord<SOARdata>;
  readonly removed: readonly ResourceRecord[];
  readonly added: readonly ResourceRecord[];
}

/** Where IXFR finds the differences from a serial to the zone being served (the journal). */
export interface DiffSource {
  /** The differences from `serial` up to `zone`'s serial, in order; undefined when not all are known. */
  diffsSince(zone: Zone, serial: number): readonly ZoneDiff[] | undefined;
}

/** Handles an UPDATE for a zone this server is primary for (src/update). */
export type UpdateHandler = (ctx: QueryContext, zone: Zone, zc: ZoneConfig) => Outcome | Promise<Outcome>;

export interface XfrOptions {
  /** One log line per access decision (the audit trail of transfers and updates). */
  audit?: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
  diffs?: DiffSource;
  update?: UpdateHandler;
  /** The secondary role's NOTIFY handler; without one NOTIFY is NOTIMP. */
  notify?: (ctx: QueryContext) => Outcome | Promise<Outcome>;
  /** Clock in seconds for TSIG Time Signed of later messages. */
  now?: () => number;
  /** Clock in ms of the refusal lines' rate limit (acl.ts RefusalLogLimit); Date.now by default. */
  nowMs?: () => number;
}

const zoneConfigs = perConfig((config: Config) => new Map(config.zones.map((z) => [nameKey(z.name), z])));

/** The zone configuration of a file zone, by its apex. */
export function zoneConfigOf(config: Config, apexKey: string): ZoneConfig | undefined {
  return zoneConfigs(config).get(apexKey);
}

/** The client's serial: the SOA in the authority section of an IXFR query (RFC 1995 §3). */
function ixfrSerial(ctx: QueryContext): number | undefined {
  const q = ctx.query;
  if (q.ancount !== 0 || q.nscount !== 1) return undefined;
  try {
    const r = new Reader(ctx.raw, q.questionEnd);
    r.skipName();
    if (r.u16() !== RRType.SOA) return undefined;
    r.pos += 8; // class, TTL, RDLENGTH
    r.skipName();
    r.skipName();
    return r.u32();
  } catch {
    return undefined;
  }
}

/** The zone whose apex is `name` and its configuration, or undefined (not a file zone we serve). */
function apexZone(ctx: QueryContext, name: string): { zone: Zone; zc: ZoneConfig } | undefined {
  const zone = ctx.runtime.zones.find(name);
  if (!zone || zone.originKey !== nameKey(name)) return undefined;
  const zc = zoneConfigOf(ctx.runtime.config, zone.originKey);
  return zc ? { zone, zc } : undefined;
}

export function xfrUnit(opts: XfrOptions = {}): Unit {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const nowMs = opts.nowMs ?? Date.now;
  const refusals = new RefusalLogLimit();
  const allowed = (ctx: QueryContext, kind: AclKind, zone: Zone, zc: ZoneConfig, extra?: Record<string, unknown>): boolean => {
    const who = requesterOf(ctx);
    const list = kind === 'transfer' ? zc.allowTransfer : kind === 'update' ? zc.allowUpdate : zc.allowNotify;
    const d = checkAcl(compileAcl(list), who);
    if (opts.audit) {
      // Refusals are rate-limited (a flood of refused queries would flood the log); the next line logged counts the dropped ones.
      const dropped = d.ok ? 0 : refusals.admit(who.address, nowMs());
      if (dropped !== undefined) {
        const line = auditLine(kind, zone.origin, who, d, { proto: ctx.transport.proto, ...extra, ...(dropped > 0 ? { suppressed: dropped } : {}) });
        opts.audit(line.level, line.msg, line.fields);
      }
    }
    return d.ok;
  };

  return {
    name: 'xfr',
    stage: 'guard',
    handle(ctx: QueryContext): Outcome | Promise<Outcome> {
      const q = ctx.query;
      if (q.opcode === Opcode.NOTIFY) return opts.notify ? opts.notify(ctx) : fail(Rcode.NOTIMP, 'NOTIFY: this server is no secondary');
      const question = q.question!;
      if (q.opcode === Opcode.UPDATE) {
        // RFC 2136 §3.1.1: the zone section names one zone, type SOA; one we are not primary for is NOTAUTH.
        if (question.type !== RRType.SOA) return fail(Rcode.FORMERR, 'UPDATE zone section is not of type SOA');
        const found = apexZone(ctx, question.name);
        if (!found) return fail(Rcode.NOTAUTH, `UPDATE for ${question.name}: not a zone served here`);
        if (!allowed(ctx, 'update', found.zone, found.zc)) return fail(Rcode.REFUSED, `update of ${found.zone.origin} not allowed`);
        if (!opts.update) return fail(Rcode.NOTIMP, 'UPDATE not implemented');
        return opts.update(ctx, found.zone, found.zc);
      }
      if (question.type !== RRType.AXFR && question.type !== RRType.IXFR) return CONTINUE;
      const found = apexZone(ctx, question.name);
      // Not the apex of a master-file zone: the responders refuse it as before (echo and policy zones
      // are synthesized, never transferred; outside every zone is REFUSED like any other query).
      if (!found) return CONTINUE;
      const { zone, zc } = found;
      const ixfr = question.type === RRType.IXFR;
      const clientSerial = ixfr ? ixfrSerial(ctx) : undefined;
      if (ixfr && clientSerial === undefined) return fail(Rcode.FORMERR, 'IXFR without one SOA in the authority section (RFC 1995 §3)');
      if (!allowed(ctx, 'transfer', zone, zc, { type: ixfr ? 'IXFR' : 'AXFR', serial: zone.serial, clientSerial })) return fail(Rcode.REFUSED, `transfer of ${zone.origin} not allowed`);
      const stream = ctx.transport.proto === 'tcp' || ctx.transport.proto === 'tls';
      const r = ctx.response;
      r.aa = true;
      r.cacheable = false;
      if (ixfr && !serialGt(zone.serial, clientSerial!)) {
        // RFC 1995 §2: the client is current: our SOA alone says so (on any transport).
        r.answer = [zone.soa];
        return ANSWERED;
      }
      if (!stream) {
        // AXFR needs a stream (RFC 5936 §4.2); IXFR over UDP that does not fit is retried over TCP (RFC 1995 §2).
        if (!ixfr) return fail(Rcode.FORMERR, `AXFR over ${ctx.transport.proto}: only over TCP or TLS (RFC 5936 §4.2)`);
        // RFC 1995 §2: our SOA alone tells the client to ask again over TCP; TC says so explicitly.
        r.answer = [zone.soa];
        r.tc = true;
        return ANSWERED;
      }
      const diffs = ixfr ? opts.diffs?.diffsSince(zone, clientSerial!) : undefined;
      const plan = ctx.get(TSIG_PLAN);
      const signer = plan ? new TsigStreamSigner(plan, now) : undefined;
      const head: TransferHead = { id: q.id, opcode: q.opcode, rd: q.rd, question, edns: q.edns ? { udpSize: ctx.runtime.config.limits.udpPayload, extendedRcode: 0, version: 0, dnssecOk: q.edns.dnssecOk, z: 0, options: [] } : undefined };
      // In stream framing: the messages after the first go to the socket as they are (response.following).
      const messages = diffs ? framed(packMessages(head, ixfrRecords(zone, diffs), signer)) : axfrFrames(zone, head, signer);
      const first = messages.next();
      if (first.done) return fail(Rcode.SERVFAIL, 'empty transfer');
      r.prebuilt = first.value.subarray(2);
      r.signed = true;
      r.following = () => ({ [Symbol.iterator]: () => messages });
      return ANSWERED;
    },
  };
}

/** RFC 1995 §4: the new SOA, then per difference the old SOA, what went, the new SOA, what came; the new SOA last. */
function* ixfrRecords(zone: Zone, diffs: readonly ZoneDiff[]): Generator<ResourceRecord> {
  yield zone.soa;
  for (const d of diffs) {
    yield d.from;
    yield* d.removed;
    yield d.to;
    yield* d.added;
  }
  yield zone.soa;
}
