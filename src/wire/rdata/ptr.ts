// PTR (RFC 1035 §3.3.12): one domain name.

import { RRType } from '../types.js';
import { targetCodec } from './target.js';

export const ptrCodec = targetCodec(RRType.PTR, true, 'PTR');
