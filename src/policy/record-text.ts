// One record in master-file syntax without its owner: a policy's `records` (checked by the schema, compiled by actions.ts).
import type { ResourceRecord } from '../wire/types.js';
import { parseZone } from '../zone/parser.js';

/** "A 198.51.100.1", "TXT \"hello\"", "300 MX 10 mail.example.lab." — master-file syntax after the owner. */
export function parseRecordText(text: string, ttl: number): ResourceRecord {
  const parsed = parseZone(`@ ${/^\d/.test(text.trim()) ? '' : ttl} ${text}\n`, { origin: '.', file: 'records' });
  if (parsed.records.length !== 1) throw new Error(`expected exactly one record in ${JSON.stringify(text)}`);
  return parsed.records[0]!;
}
