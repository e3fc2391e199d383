#!/usr/bin/env node
// Bundles the CLI (dist/cli/main.js and what it imports) into dist/cli/main.js plus chunks, after tsc.
//
// Why: Node 20's ESM loader resolves, reads (asynchronously, through the thread pool) and links each
// of the ~290 modules `fluxdns serve` imports one by one, with no compile cache; that was ~0.35 s of
// the server's start-up CPU (bench:load, server pinned to one core), and one file costs almost none
// of it. Everything else in dist/ stays as tsc wrote it: the zone loader's threads (dist/zone/*.js)
// are started from there, and tests and benches that import modules use the sources or dist as before.
//
// Each module's `import.meta.url` is rewritten to the URL the module has in dist/, computed from the
// bundle's own (its chunks sit beside it): the paths modules derive from it (the native addons,
// package.json, demo/, the zone loader's threads) resolve exactly as without the bundle.
// Dynamic imports become chunks loaded on first use (Redis, prom-client), as before.
// Without esbuild (a dev dependency, through tsx) the tsc output is kept and works as it is.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'cli');
const entry = join(outDir, 'main.js');
const MARK = '// fluxdns: bundled by scripts/bundle.mjs';

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stdout.write('fluxdns: esbuild not found; dist/cli/main.js left unbundled (slower start-up)\n');
  process.exit(0);
}

if (readFileSync(entry, 'utf8').includes(MARK)) {
  process.stderr.write(`fluxdns: ${entry} is already a bundle: run tsc first (npm run build)\n`);
  process.exit(1);
}

/** import.meta.url of a dist module, seen from the bundle in dist/cli/. */
const metaUrl = {
  name: 'dist-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outDir, args.path).split(sep).join('/');
      const href = `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, import.meta.url).href`;
      return { contents: text.replace(/\bimport\.meta\.url\b/g, href), loader: 'js' };
    });
  },
};

/**
 * Packages stay outside the bundle (loaded from node_modules as before), except BUNDLED: `yaml` (74 CommonJS
 * files) and `zod` (12), which every `serve` loads at start — each file resolved, stat'ed, read and wrapped
 * by Node's loaders one by one was ~0.05-0.1 s of the start-up's CPU; in the bundle they are one read.
 */
const BUNDLED = new Set(['yaml', 'zod']);
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return undefined;
      const pkg = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      // Inside a bundled package its own imports are bundled; anything else is loaded at run time.
      return BUNDLED.has(pkg) ? undefined : { path: args.path, external: true };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [entry],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: outDir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  // yaml's CommonJS files require('process') and require('buffer'): esbuild's require shim in an ESM
  // bundle uses a `require` in scope when there is one.
  banner: { js: `${MARK}\nimport { createRequire as __fluxdnsCreateRequire } from 'node:module';\nconst require = __fluxdnsCreateRequire(import.meta.url);` },
  plugins: [externalPackages, metaUrl],
  write: false,
  logLevel: 'warning',
});

// Chunks of an earlier bundle go first (tsc does not remove files).
for (const f of readdirSync(outDir)) if (/^chunk-.*\.js(\.map)?$/.test(f)) rmSync(join(outDir, f));
/**
 * The bundle as pure ASCII: every other character (left in comments: §, —, …, esbuild escapes strings
 * itself) becomes a \\uXXXX escape, which means the same character in a string, template, regular
 * expression or identifier too. Why: one non-ASCII byte sends Node's reading of the 1.4 MB source through
 * the slow UTF-8 decoder and makes it a two-byte string for V8's scanner — 76 ms per start measured
 * (TextDecoder on the bundle's bytes, load 13); pure ASCII decodes in about 1 ms.
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
for (const f of result.outputFiles) writeFileSync(f.path, f.path.endsWith('.js') ? asciiOnly(f.text) : f.contents);
process.stdout.write(`fluxdns: bundled dist/cli/main.js (${result.outputFiles.filter((f) => f.path.endsWith('.js')).length} files)\n`);
