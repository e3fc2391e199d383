// answer-cache module: a pre-encoded answer for a repeated (name, type, transport, EDNS size, DO) at
// answer, before any responder; the store at end keeps what the responders marked cacheable. Always
// in the chain; the cache is per process and outlives reloads (entries carry the runtime generation).
import type { Module } from '../../answer/module.js';
import { AnswerCache, answerCache, answerCacheStore } from './index.js';

export const cacheModule: Module = {
  name: 'answer-cache',
  keys: [],
  setup(env) {
    const cache = env.answerCache ?? new AnswerCache();
    return { hooks: { answer: answerCache(cache), end: answerCacheStore(cache) }, load: () => true };
  },
};
