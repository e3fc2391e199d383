// RFC 2136 UPDATE for zones a small server keeps itself (the Stateless DNS directory, src/client/directory.ts),
// through the steps the engine's path takes: the TSIG check of the tsig guard (RFC 8945 §5.2), the zone's
// allowUpdate list (src/transfer/acl.ts, default deny), applyUpdate (all or nothing, the zone checks), then
// the difference journaled and fsynced before the answer (src/transfer/journal.ts), as src/update/handler.ts.
import { decodeUpdate, type UpdateMessage } from '../client/update.js';
import { auditLine, checkAcl, type CompiledAcl, type Requester } from '../transfer/acl.js';
import type { ZoneDiff } from '../transfer/unit.js';
import type { KeyRing } from '../tsig/keys.js';
import { appendTsig, timeOther, type SignPlan } from '../tsig/sign.js';
import { TSIG_ABSENT, type TsigStatus } from '../tsig/status.js';
import { findTsig, TSIG_BADKEY, TSIG_BADSIG, TSIG_BADTIME, verifyRequest } from '../tsig/verify.js';
import { encodeMessage } from '../wire/message.js';
import { Opcode, Rcode, type Question } from '../wire/types.js';
import type { Zone } from '../zone/tree.js';
import { applyUpdate, type UpdateResult } from './apply.js';

export type UpdateLog = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

export interface StandaloneUpdates {
  /** Who may update (compileAcl(allowUpdate)); an empty list refuses everyone. */
  readonly acl: CompiledAcl;
  /** Keys a signed UPDATE may use. */
  readonly keys: KeyRing;
  /** Seconds of clock difference accepted (tsig.fudge). */
  readonly fudge: number;
  readonly log: UpdateLog;
  /** Seconds since the epoch. */
  readonly now: () => number;
}

export interface UpdateTarget {
  /** The zone the zone section names, or undefined when it is not served here (NOTAUTH, RFC 2136 §3.1.1). */
  zone(name: string): Zone | undefined;
  /** What this server refuses beyond RFC 2136 (types it does not hold): an error result, or undefined. */
  restrict?(zone: Zone, u: UpdateMessage): UpdateResult | undefined;
  /** Makes the difference durable (journal + fsync); throws when it could not. Called before `install`. */
  persist(old: Zone, next: Zone, diff: ZoneDiff): void;
  /** Puts the new version into service. */
  install(next: Zone): void;
}

function answer(id: number, zone: readonly Question[], rcode: number, plan: SignPlan | undefined, now: number): Uint8Array {
  const wire = encodeMessage({
    id,
    flags: { qr: true, opcode: Opcode.UPDATE, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode },
    questions: [...zone],
    answers: [],
    authorities: [],
    additionals: [],
  });
  return plan ? appendTsig(wire, plan, now) : wire;
}

/**
 * Answers one UPDATE message from `remote`: FORMERR when malformed, NOTAUTH for a zone not served or a
 * TSIG that fails (with the TSIG error, RFC 8945 §5.3.2), REFUSED when the access list says no, else the
 * result of applying it. The answer to a validly signed UPDATE is signed.
 */
export function serveUpdate(raw: Uint8Array, remote: string, opts: StandaloneUpdates, target: UpdateTarget): Uint8Array {
  const now = opts.now();
  const id = raw.length >= 2 ? (raw[0]! << 8) | raw[1]! : 0;
  let u: UpdateMessage;
  try {
    u = decodeUpdate(raw);
  } catch {
    return answer(id, [], Rcode.FORMERR, undefined, now);
  }
  const zq = u.zone[0];
  if (u.zone.length !== 1 || !zq) return answer(id, u.zone, Rcode.FORMERR, undefined, now);
  // RFC 8945 §5.2: the TSIG is checked before anything else is looked at.
  let tsig: TsigStatus = TSIG_ABSENT;
  let plan: SignPlan | undefined;
  let at: number | undefined;
  try {
    at = findTsig(raw);
  } catch {
    return answer(id, u.zone, Rcode.FORMERR, undefined, now);
  }
  if (at !== undefined) {
    const v = verifyRequest(raw, at, opts.keys, opts.fudge, now);
    if (v.kind === 'formerr') return answer(id, u.zone, Rcode.FORMERR, undefined, now);
    if (v.kind === 'badkey' || v.kind === 'badsig') {
      const keyName = v.record.keyName.toLowerCase();
      opts.log('warn', 'update refused', { zone: zq.name, client: remote, key: keyName, reason: `TSIG ${v.kind === 'badkey' ? 'BADKEY' : 'BADSIG'}` });
      // §5.3.2: unsigned (MAC size 0), with the error.
      return answer(id, u.zone, Rcode.NOTAUTH, { keyName, algorithm: v.record.algorithm, macSize: 0, fudge: opts.fudge, error: v.kind === 'badkey' ? TSIG_BADKEY : TSIG_BADSIG }, now);
    }
    if (v.kind === 'badtime') {
      opts.log('warn', 'update refused', { zone: zq.name, client: remote, key: v.key.name, reason: `TSIG BADTIME (${now - v.record.timeSigned} s off)` });
      return answer(id, u.zone, Rcode.NOTAUTH, { keyName: v.key.name, algorithm: v.record.algorithm, key: v.key, requestMac: v.record.mac, macSize: v.record.mac.length, fudge: opts.fudge, error: TSIG_BADTIME, timeSigned: v.record.timeSigned, other: timeOther(now) }, now);
    }
    if (v.kind !== 'valid') return answer(id, u.zone, Rcode.NOTAUTH, undefined, now);
    tsig = { status: 'valid', keyName: v.key.name };
    plan = { keyName: v.key.name, algorithm: v.record.algorithm, key: v.key, requestMac: v.record.mac, macSize: v.record.mac.length, fudge: opts.fudge, error: 0 };
  }
  const zone = target.zone(zq.name);
  if (!zone) return answer(u.id, u.zone, Rcode.NOTAUTH, plan, now);
  const who: Requester = { address: remote, tsig };
  const decision = checkAcl(opts.acl, who);
  const audit = auditLine('update', zone.origin, who, decision);
  opts.log(audit.level, audit.msg, audit.fields);
  if (!decision.ok) return answer(u.id, u.zone, Rcode.REFUSED, plan, now);
  return answer(u.id, u.zone, commitUpdate(zone, u, remote, opts, target), plan, now);
}

/**
 * Applies an admitted UPDATE to `zone`: the target's restrictions, RFC 2136 all or nothing, the
 * difference made durable, then the new version in service. Returns the answer's RCODE.
 */
export function commitUpdate(zone: Zone, u: UpdateMessage, client: string, opts: Pick<StandaloneUpdates, 'log' | 'now'>, target: UpdateTarget): number {
  const base = { zone: zone.origin, client };
  const result = target.restrict?.(zone, u) ?? applyUpdate(zone, u, 'increment', opts.now());
  if (result.rcode !== Rcode.NOERROR) {
    opts.log('warn', 'update rejected', { ...base, rcode: result.rcode, reason: 'reason' in result ? result.reason : '' });
    return result.rcode;
  }
  if ('next' in result && result.next && result.diff) {
    try {
      target.persist(zone, result.next, result.diff);
    } catch (e) {
      opts.log('error', 'update not journaled: refused, nothing changed', { ...base, err: (e as Error).message });
      return Rcode.SERVFAIL;
    }
    target.install(result.next);
    opts.log('info', 'update applied', { ...base, from: zone.serial, to: result.next.serial, prerequisites: u.prerequisites.length, updates: u.updates.length });
  }
  return Rcode.NOERROR;
}
