// tsig module (RFC 8945): the guard verifies a signed query at begin, the finisher signs the response
// at end. Always in the chain: a signed query gets BADKEY even when no key is configured (§5.2.1).
import type { Module } from '../../answer/module.js';
import { keyRingOf } from '../../tsig/keys.js';
import { replayRefused } from './abuse.js';
import { tsigFinisher } from './finish.js';
import { tsigGuard } from './index.js';

export const tsigModule: Module = {
  name: 'tsig',
  keys: ['tsig'],
  setup() {
    return {
      hooks: { begin: tsigGuard(), end: tsigFinisher() },
      load({ config }) {
        // The key ring (decoded secrets) and the replay setting, built now rather than on the first signed query.
        keyRingOf(config.tsig);
        replayRefused(config);
        return true;
      },
    };
  },
};
