// tsig guard: verifies a query's TSIG (RFC 8945 §5.2) — key, MAC, time — records TSIG_STATUS for later
// units, and answers NOTAUTH with the TSIG error when verification fails (§5.3.2). It leaves the plan
// for signing the response to the tsig finisher.
import { keyRingOf } from '../../tsig/keys.js';
import { timeOther, type SignPlan } from '../../tsig/sign.js';
import { TSIG_BADKEY, TSIG_BADSIG, TSIG_BADTIME, verifyRequest } from '../../tsig/verify.js';
import { Rcode } from '../../wire/types.js';
import { StateKey, type QueryContext } from '../../answer/context.js';
import { attackCounters } from '../../observe/attack-counters.js';
import { CONTINUE, drop, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { replayRefused, TsigAbuse } from './abuse.js';
import { TSIG_ABSENT, TSIG_STATUS } from './state.js';
import { counterBy } from '../../observe/metrics/family.js';

const results = counterBy('fluxdns_tsig_results_total', 'Signed queries by verification result (valid, badkey, badsig, badtime, formerr)', ['result']);

export { TSIG_STATUS, TsigError, type TsigStatus, type TsigVerdict, type TsigErrorName } from './state.js';

/** How the response to this query is signed; set by the guard, applied by the tsig finisher. */
export const TSIG_PLAN = new StateKey<SignPlan>('tsig.plan', 'tsigPlan');

/** The abuse state (error buckets, replay cache) is per process; it outlives reloads. */
export function tsigGuard(abuse = new TsigAbuse(attackCounters.tsig)): Unit {
  return {
    name: 'tsig',
    stage: 'guard',
    handle(ctx: QueryContext): Outcome {
      const q = ctx.query;
      const at = q.tsigAt;
      if (at === undefined) {
        ctx.tsigStatus = TSIG_ABSENT;
        return CONTINUE;
      }
      // Responses are dropped by the header guard; a malformed message gets its FORMERR there, unsigned.
      if (q.qr || q.error) {
        ctx.tsigStatus = { status: 'bad', error: 'FORMERR' };
        return CONTINUE;
      }
      const cfg = ctx.runtime.config.tsig;
      // ctx.receivedAt is the engine's clock (tests construct contexts with their own).
      const now = Math.floor(ctx.receivedAt / 1000);
      const v = verifyRequest(ctx.raw, at, keyRingOf(cfg), cfg.fudge, now);
      results.inc(v.kind);
      switch (v.kind) {
        case 'formerr':
          ctx.tsigStatus = { status: 'bad', error: 'FORMERR' };
          return fail(Rcode.FORMERR, v.reason);
        case 'badkey':
        case 'badsig': {
          const r = v.record;
          // A MAC-guessing flood learns nothing from silence; a client with a wrong key still sees some errors.
          if (!abuse.allowError(ctx.transport.remoteAddress, cfg.errorsPerSecond, ctx.receivedAt)) return drop(`TSIG errors over tsig.errorsPerSecond (key ${r.keyName.toLowerCase()})`);
          const keyName = r.keyName.toLowerCase();
          ctx.tsigStatus = { status: 'bad', keyName, error: v.kind === 'badkey' ? 'BADKEY' : 'BADSIG' };
          // §5.3.2: errors about the key or the MAC go back unsigned (MAC size 0), never signed.
          ctx.tsigPlan = { keyName, algorithm: r.algorithm, macSize: 0, fudge: cfg.fudge, error: v.kind === 'badkey' ? TSIG_BADKEY : TSIG_BADSIG };
          return fail(Rcode.NOTAUTH, `TSIG ${v.kind === 'badkey' ? 'BADKEY' : 'BADSIG'} (key ${keyName})`);
        }
        case 'badtime': {
          const r = v.record;
          if (!abuse.allowError(ctx.transport.remoteAddress, cfg.errorsPerSecond, ctx.receivedAt)) return drop(`TSIG errors over tsig.errorsPerSecond (key ${v.key.name})`);
          ctx.tsigStatus = { status: 'bad', keyName: v.key.name, error: 'BADTIME' };
          // §5.2.3: signed, with the request's Time Signed and our clock in Other Data, so the client
          // can tell its offset.
          ctx.tsigPlan = { keyName: v.key.name, algorithm: r.algorithm, key: v.key, requestMac: r.mac, macSize: r.mac.length, fudge: cfg.fudge, error: TSIG_BADTIME, timeSigned: r.timeSigned, other: timeOther(now) };
          return fail(Rcode.NOTAUTH, `TSIG BADTIME (key ${v.key.name}, ${now - r.timeSigned} s off)`);
        }
        case 'valid': {
          const r = v.record;
          if (replayRefused(ctx.runtime.config) && abuse.isReplay(v.key.name, r.mac, ctx.transport.remoteAddress, r.timeSigned, Math.min(cfg.fudge, r.fudge), now)) {
            // A replay is answered as the same query would be once its window closed (RFC 8945 §5.2.3:
            // the time check is the replay defence): NOTAUTH/BADTIME, signed, since the MAC verified.
            // The status is bad, so `require: tsig` services and `tsig: valid` policies grant nothing.
            if (!abuse.allowError(ctx.transport.remoteAddress, cfg.errorsPerSecond, ctx.receivedAt)) return drop(`TSIG replay (key ${v.key.name})`);
            ctx.tsigStatus = { status: 'bad', keyName: v.key.name, error: 'BADTIME' };
            ctx.tsigPlan = { keyName: v.key.name, algorithm: r.algorithm, key: v.key, requestMac: r.mac, macSize: r.mac.length, fudge: cfg.fudge, error: TSIG_BADTIME, timeSigned: r.timeSigned, other: timeOther(now) };
            return fail(Rcode.NOTAUTH, `TSIG replay (key ${v.key.name}: the same MAC came from another address within the fudge)`);
          }
          ctx.tsigStatus = { status: 'valid', keyName: v.key.name };
          // The response MAC is as long as the request's (a truncated request gets a truncated answer).
          ctx.tsigPlan = { keyName: v.key.name, algorithm: r.algorithm, key: v.key, requestMac: r.mac, macSize: r.mac.length, fudge: cfg.fudge, error: 0 };
          return CONTINUE;
        }
      }
    },
  };
}
