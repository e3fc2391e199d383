// zone module: answers from the master-file zones (zones[]), the authorities of kind "file". Always in
// the chain: zones come and go without a configuration load (a transfer, a catalog member, ctl reload ZONE).
import type { Authority } from '../../answer/authority.js';
import type { Module } from '../../answer/module.js';
import { zoneResponder } from './index.js';

export const zoneModule: Module = {
  name: 'zone',
  keys: ['zones'],
  authorities(_config, zones) {
    return zones.zones.map((zone): Authority => ({ kind: 'file', name: zone.origin, zone }));
  },
  setup() {
    return { hooks: { answer: zoneResponder() }, load: () => true };
  },
};
