// policies module: the ordered `policies` list matched at begin (first match wins), with the `pools`
// it draws from. Out of the chain without policies; the pools are compiled and checked either way
// (services draw from them too).
import type { Module } from '../../answer/module.js';
import { policiesUnit, policySetFor } from './index.js';

export const policiesModule: Module = {
  name: 'policies',
  keys: ['pools', 'policies'],
  setup(env) {
    return {
      hooks: { begin: policiesUnit({ now: env.now }) },
      load({ config, fail }) {
        // Compiles tests, actions, pools, rate-limit buckets and owned zones once per configuration.
        const set = policySetFor(config);
        config.pools.forEach((p, i) => {
          const pool = set.pools.get(p.name);
          // Only the compiled pool knows: prefixes minus exclusions (and IPv4 network/broadcast) may leave nothing to draw.
          if (pool && !pool.has(4) && !pool.has(6)) fail(['pools', i, 'exclude'], `pool "${p.name}" has no address to hand out: exclude covers every address of its prefixes`);
        });
        return !set.empty;
      },
    };
  },
};
