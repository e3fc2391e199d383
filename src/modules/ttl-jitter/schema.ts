// ttl-jitter configuration: `ttlJitter: { min }` on a zone (and, through the same key, on a policy).
import { z } from 'zod';
import { MAX_TTL } from '../../wire/types.js';

export const ttlJitterSchema = z
  .object({
    min: z
      .number()
      .int('expected a whole number of seconds, 0 or more')
      .min(0, 'expected a whole number of seconds, 0 or more')
      .max(MAX_TTL, `expected at most ${MAX_TTL} seconds (RFC 2181 §8)`),
  })
  .strict();

export type TtlJitterConfig = z.output<typeof ttlJitterSchema>;
