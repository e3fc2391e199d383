// ttl-jitter module: draws each answer's TTLs at end when a zone (zones[].ttlJitter) or a policy
// (policies[].ttlJitter) asked for it. Out of the chain when neither does.
import type { Module } from '../../answer/module.js';
import { zoneTtlJitter, ttlJitterFinisher } from './index.js';

export const ttlJitterModule: Module = {
  name: 'ttl-jitter',
  keys: [],
  setup() {
    return {
      hooks: { end: ttlJitterFinisher() },
      load({ config, zones }) {
        // The per-zone map is built now (one lookup by origin per answer later).
        for (const z of zones.zones) zoneTtlJitter({ config, zones, generation: 0 }, z.originKey);
        return config.zones.some((z) => z.ttlJitter !== undefined) || config.policies.some((p) => p.ttlJitter !== undefined);
      },
    };
  },
};
