// capability module: DNS answers as capabilities (seed 000) for the service names (authorities of
// kind "service"). Out of the chain without services.
import type { Authority } from '../../answer/authority.js';
import type { Module } from '../../answer/module.js';
import type { Unit } from '../../answer/unit.js';
import { Capabilities } from '../../capability/core.js';
import { serviceTableOf } from '../../capability/services.js';
import { capabilityResponder } from './index.js';

export const capabilityModule: Module = {
  name: 'capability',
  keys: ['services', 'capabilities', 'state'],
  authorities(config) {
    return config.services.flatMap((s) => s.name.map((name): Authority => ({ kind: 'service', name })));
  },
  setup(env) {
    // The core (store, data plane, audit) and the responder are made on the first configuration with services.
    let caps = env.capabilities;
    let unit: Unit | undefined;
    const answer: Unit = { name: 'capability', stage: 'responder', handle: (ctx) => (unit ??= capabilityResponder({ capabilities: caps })).handle(ctx) };
    return {
      hooks: { answer },
      load({ config }) {
        if (config.services.length === 0) return false;
        caps ??= new Capabilities();
        // Pools, buckets and blocklists compiled now: an unreadable blocklist fails the load.
        serviceTableOf(config, { now: caps.now });
        return true;
      },
    };
  },
};
