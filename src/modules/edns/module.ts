// edns module: NSID (RFC 5001, the `nsid` key) and the client-subnet echo (RFC 7871) on every
// response at end. Always in the chain.
import type { Module } from '../../answer/module.js';
import { ednsFinisher } from './index.js';

export const ednsModule: Module = {
  name: 'edns',
  keys: ['nsid'],
  setup() {
    return { hooks: { end: ednsFinisher() }, load: () => true };
  },
};
