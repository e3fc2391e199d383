// The time a query arrived, read at most once per event-loop turn: every query of one receive batch
// (one socket callback, one synchronous run) gets the same millisecond, and a turn whose queries never
// ask (answer-cache hits with RRL off) reads no clock at all. Date.now() per query cost ≈ 30 ns.

let now = -1;
const expire = (): void => {
  now = -1;
};

/** Milliseconds since the epoch, as read on this turn's first call; read again after the microtask queue runs. */
export function turnNow(): number {
  if (now < 0) {
    now = Date.now();
    queueMicrotask(expire);
  }
  return now;
}
