// header module: refuses what no module may answer (responses, malformed queries, unknown opcodes,
// EDNS versions, classes). Always in the chain; no configuration.
import type { Module } from '../../answer/module.js';
import { headerGuard } from './index.js';

export const headerModule: Module = {
  name: 'header',
  keys: [],
  setup() {
    return { hooks: { begin: headerGuard() }, load: () => true };
  },
};
