// NS (RFC 1035 §3.3.11): one domain name.

import { RRType } from '../types.js';
import { targetCodec } from './target.js';

export const nsCodec = targetCodec(RRType.NS, true, 'NS');
