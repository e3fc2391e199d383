// What one query is answered from (the Runtime type lives beside the query context it is read through).
export type { Chain, Runtime } from './context.js';
