// DNAME (RFC 6672 §2.1; never compressed, RFC 6672 §2.5): one domain name.

import { RRType } from '../types.js';
import { targetCodec } from './target.js';

export const dnameCodec = targetCodec(RRType.DNAME, false, 'DNAME');
