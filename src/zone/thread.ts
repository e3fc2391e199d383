// Starts a module of this folder in a worker thread, from the sources (tsx: tests, bench) or from dist.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running module `name` (without extension) beside `self` (the caller's
 * import.meta.url): the .ts file when the caller runs from the sources, else the .js one. `options`
 * passes workerData (and what it transfers) to the thread.
 */
export function startModuleThread(self: string, name: string, options: Pick<WorkerOptions, 'workerData' | 'transferList'> = {}): Worker {
  return self.endsWith('.ts')
    ? // A thread does not inherit the main thread's module hooks: register tsx's there first.
      new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(new URL(`./${name}.ts`, self).href)}); });`, { eval: true, ...options })
    : new Worker(new URL(`./${name}.js`, self), options);
}
