// The dnssec-online module: its load builds the signer table (keys, apex key sets) before the configuration serves, so a key problem is a load error and not a SERVFAIL on the first signed query; it warns about a zone file that is signed already.
import type { Module } from '../../answer/module.js';
import { nameKey } from '../../wire/name.js';
import { RRType } from '../../wire/types.js';
import { signersOf } from '../../dnssec/online/signers.js';
import { dnssecKeysResponder, dnssecSignFinisher } from './index.js';

export const dnssecOnlineModule: Module = {
  name: 'dnssec-online',
  keys: ['zones', 'echo', 'policies', 'services'],
  setup: (env) => ({
    hooks: { answer: dnssecKeysResponder(), end: dnssecSignFinisher() },
    load(ctx) {
      let size: number;
      try {
        size = signersOf(ctx.config).size;
      } catch (e) {
        // Keys are read at configuration parse (src/dnssec/online/load.ts); this catches what is left (a key OpenSSL refuses).
        return ctx.fail(['zones'], `online signing cannot start: ${(e as Error).message}`);
      }
      ctx.config.zones.forEach((z, i) => {
        if (!z.dnssec) return;
        const zone = ctx.zones.find(z.name);
        if (!zone || nameKey(zone.origin) !== nameKey(z.name) || !zone.rrset(zone.origin, RRType.DNSKEY)) return;
        // Its RRSIG/NSEC data is served as the file has it; online signing covers only what carries no signature.
        env.warn?.(`zones[${i}] ${z.name}: the zone file is signed already (DNSKEY at the apex) and has dnssec: { sign: online }: answers from the file keep the file's signatures and proofs, the online keys sign only synthesized answers; drop one of the two`, { zone: z.name, file: z.file });
      });
      return size > 0;
    },
  }),
};
