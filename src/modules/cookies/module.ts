// cookies module (RFC 7873, RFC 9018): the guard judges the query's cookie at begin, the finisher
// returns the client cookie with our server cookie at end. Out of the chain with `cookies.mode: off`.
import type { Module } from '../../answer/module.js';
import { cookiesFinisher } from './finish.js';
import { cookiesGuard } from './index.js';
import { cookieKeysOf } from './state.js';

export const cookiesModule: Module = {
  name: 'cookies',
  keys: ['cookies'],
  setup() {
    return {
      hooks: { begin: cookiesGuard(), end: cookiesFinisher() },
      load({ config }) {
        if (config.cookies.mode === 'off') return false;
        // The SipHash keys of the current and previous secrets.
        cookieKeysOf(config);
        return true;
      },
    };
  },
};
