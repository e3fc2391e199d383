// policy-zone module: answers for the zones policies own without a file (policies[].zone) — the
// authorities of kind "policy". Out of the chain when no policy owns a zone.
import type { Authority } from '../../answer/authority.js';
import type { Module } from '../../answer/module.js';
import { policySetFor } from '../policies/index.js';
import { policyZoneResponder } from './index.js';

export const policyZoneModule: Module = {
  name: 'policy-zone',
  keys: [],
  authorities(config) {
    return [...policySetFor(config).zones.values()].map((zone): Authority => ({ kind: 'policy', name: zone.origin, zone }));
  },
  setup() {
    return { hooks: { answer: policyZoneResponder() }, load: ({ config }) => policySetFor(config).zones.size > 0 };
  },
};
