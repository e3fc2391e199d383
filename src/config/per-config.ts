// Values derived from a loaded configuration once, on first use, and dropped with it.

/**
 * Wraps `derive` so each configuration object (or part of one) is derived once: a reload makes new
 * objects, so the next query derives afresh, and the old value goes with the old object (WeakMap).
 */
export function perConfig<K extends object, V>(derive: (config: K) => V): (config: K) => V {
  const memo = new WeakMap<K, V>();
  return (config) => {
    let v = memo.get(config);
    if (v === undefined) {
      v = derive(config);
      memo.set(config, v);
    }
    return v;
  };
}
