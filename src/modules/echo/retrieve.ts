// Answers for names under an alias from the short-time cache (seed 003 §2.9): what the alias's last
// programming query stored, for resolvers that ask again instead of trusting the first answer.
import { RRType } from '../../wire/types.js';
import { aliasName, cname, dname, dnameTarget, echoName, programAnswer, xyName, yxdomain, type Program } from './program.js';
import { joinName, positive, typedRecord, type EchoAnswer } from './records.js';
import type { EchoZoneConfig } from './schema.js';

/**
 * `below` are the labels left of alias.@ in the question (empty for alias.@ itself). undefined: the
 * stored program says nothing about this name and type, and the entry stays for a later retrieval.
 */
export function retrievalAnswer(z: EchoZoneConfig, qname: string, qtype: number, below: readonly string[], p: Program): EchoAnswer | undefined {
  switch (p.method) {
    case 'a':
    case 'ca': {
      const rec = below.length === 0 ? typedRecord(qname, qtype, p.data, z.ttl) : undefined;
      return rec && positive([rec]);
    }
    case 'cca':
    case 'ccx': {
      const target = echoName(z, p);
      const rec = below.length === 0 && target ? typedRecord(target, qtype, p.data, z.ttl) : undefined;
      return rec && positive([cname(qname, target!, z.ttl), rec]);
    }
    case 'ccu':
      return below.length === 0 ? positive([cname(qname, xyName(p), z.ttl)]) : undefined;
    case 'cu':
      // CU stores nothing under the alias (seed §2.5.2): its CNAME is owned by the programming name.
      return undefined;
    case 'da':
    case 'dx':
    case 'du': {
      const unresolvable = p.method === 'du';
      const target = dnameTarget(z, p, unresolvable);
      if (!target) return undefined;
      const d = dname(aliasName(z, p), target, z.ttl);
      // A DNAME redirects the names below its owner, not the owner itself (RFC 6672 §2.3).
      if (below.length === 0) return qtype === RRType.DNAME ? positive([d]) : undefined;
      const owner = joinName(below, target);
      if (!owner) return yxdomain([d]);
      const rec = unresolvable ? undefined : typedRecord(owner, qtype, p.data, z.ttl);
      if (!unresolvable && !rec) return undefined;
      return positive(rec ? [d, cname(qname, owner, z.ttl), rec] : [d, cname(qname, owner, z.ttl)]);
    }
    case 'na':
    case 'nu':
    case 'nr':
      // The delegation covers the alias and everything below it, whatever the type.
      return programAnswer(z, { qname, qtype }, p);
  }
}
