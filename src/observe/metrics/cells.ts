// Answer cells: what every answer-cache hit of one stored answer adds to the query metrics, numbered once
// when the answer is stored, so a hit is counted with one increment (QueryMetrics.record's fast path).

/** What a hit of a stored answer counts: its question type, response code, size and zone. */
export interface AnswerCell {
  qtype: number;
  /** The header's 4-bit rcode (a stored answer's extended rcode is never above 15). */
  rcode: number;
  /** Length of the reply in bytes: a hit sends the stored bytes with only ID, question case, RD and CD patched. */
  length: number;
  /** Origin of the zone that answered ('' when none). */
  zone: string;
}

/**
 * Largest number of cells: beyond it a stored answer gets none and its hits are counted field by field
 * (the ordinary path). Distinct (qtype, rcode, length, zone) tuples are few: the sizes of the answers of
 * a zone, per type and outcome.
 */
export const MAX_CELLS = 1 << 16;

const ids = new Map<string, number>();
/** Cell id → what it counts; append-only for the life of the process, so an id never changes meaning. */
export const cells: AnswerCell[] = [];

/** The cell of a stored answer (numbered on first use), or -1 when the table is full. Not on the hit path. */
export function cellOf(qtype: number, rcode: number, length: number, zone: string): number {
  const key = `${qtype}/${rcode}/${length}/${zone}`;
  let id = ids.get(key);
  if (id === undefined) {
    if (cells.length >= MAX_CELLS) return -1;
    id = cells.length;
    cells.push({ qtype, rcode, length, zone });
    ids.set(key, id);
  }
  return id;
}
