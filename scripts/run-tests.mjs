#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: src and test) with node's own test
// runner through tsx. Node 20's --test does not expand globs or find .ts files by itself.
// Files run three at a time (node's default is availableParallelism() - 1, which is 1 on a 2-core
// machine): most integration files wait on servers, resolvers and namespaces rather than compute, so the
// suite's wall time roughly halves. Every test picks free ports and its own temporary folders, which is
// what makes files safe to overlap. --test-concurrency=N on the command line overrides it.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) { if (path.endsWith('.test.ts')) out.push(path); return; }
  for (const entry of readdirSync(path).sort()) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    collect(join(path, entry), out);
  }
}
const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
if (!flags.some((f) => f.startsWith('--test-concurrency'))) flags.push('--test-concurrency=3');
const files = [];
for (const root of roots.length ? roots : ['src', 'test']) collect(root, files);
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
