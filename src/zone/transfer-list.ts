// The transfer list of compiled zone arrays, in a module of its own: the loader's relay thread
// (load-worker.ts) needs it without reading the compiler's modules.

/** The buffers behind the typed arrays among `b`'s values, each once: postMessage's transfer list. */
export function transferList(b: object): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of Object.values(b)) if (ArrayBuffer.isView(v)) out.add(v.buffer as ArrayBuffer);
  return [...out];
}
