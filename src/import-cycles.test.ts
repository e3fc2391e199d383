// No import cycles (issue 11 item 7): every import under src/ — type-only ones too, since a type cycle
// ties modules together just the same — is read with the TypeScript parser, and any cycle fails the
// test naming its files. Data flows one way: transport → engine → modules → store (STYLE.md 11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The source files `file` imports or re-exports from (relative specifiers: a package cannot import us back). */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    const spec = ts.isImportDeclaration(node) || ts.isExportDeclaration(node) ? node.moduleSpecifier
      : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword ? node.arguments[0]
      : ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) out.push(resolve(dirname(file), spec.text.replace(/\.js$/, '.ts')));
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Strongly connected components of more than one file (Tarjan): each is at least one cycle. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let n = 0;
  const connect = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)!) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc);
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) connect(f);
  return out;
}

test('src/ has no import cycles, type-only imports included', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 100, 'the walk found the sources');
  assert.deepEqual(cycles(new Map(files.map((f) => [f, importsOf(f)]))).map((c) => c.map((f) => relative(SRC, f)).sort().join(' <-> ')), []);
});

test('the walk sees a cycle when there is one', () => {
  // answer/unit.ts imports answer/context.ts; with a made-up edge back, the same walk must report both.
  const unit = join(SRC, 'answer', 'unit.ts');
  const context = join(SRC, 'answer', 'context.ts');
  assert.ok(importsOf(unit).includes(context), 'unit.ts imports context.ts');
  assert.deepEqual(cycles(new Map([[unit, [context]], [context, []]])), []);
  assert.deepEqual(cycles(new Map([[unit, [context]], [context, [unit]]])).map((c) => c.sort()), [[context, unit].sort()]);
});
