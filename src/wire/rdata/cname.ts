// CNAME (RFC 1035 §3.3.1): one domain name.

import { RRType } from '../types.js';
import { targetCodec } from './target.js';

export const cnameCodec = targetCodec(RRType.CNAME, true, 'CNAME');
