// echo module: Stateless DNS zones (seed 003), the authorities of kind "echo", answered by synthesis.
// Out of the chain without echo zones. Short-time caches are per process, per zone.
import type { Authority } from '../../answer/authority.js';
import type { Module } from '../../answer/module.js';
import { echoResponder } from './index.js';

export const echoModule: Module = {
  name: 'echo',
  keys: ['echo'],
  authorities(config) {
    return config.echo.map((echo): Authority => ({ kind: 'echo', name: echo.zone, echo }));
  },
  setup(env) {
    return { hooks: { answer: echoResponder({ now: env.now }) }, load: ({ config }) => config.echo.length > 0 };
  },
};
