// rrl module: response rate limiting (BIND/Knot semantics) on the response as sent, at end. Out of
// the chain with `rrl: off`. The limiter is per process and outlives reloads.
import type { Module } from '../../answer/module.js';
import { exemptOf, logOnlyReporter, RateLimiter, rrlFinisher } from './index.js';

export const rrlModule: Module = {
  name: 'rrl',
  keys: ['rrl'],
  setup(env) {
    return {
      hooks: { end: rrlFinisher(new RateLimiter(), env.warn ? logOnlyReporter(env.warn) : undefined) },
      load({ config }) {
        if (config.rrl === undefined) return false;
        // The exempt prefixes, parsed once per configuration.
        exemptOf(config.rrl);
        return true;
      },
    };
  },
};
