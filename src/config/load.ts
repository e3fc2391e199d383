// Reads a YAML configuration file and validates it, reporting each error as FILE:LINE: key.path: what was expected.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { ZodIssue } from 'zod';
import { resolveCapabilityPaths } from '../capability/schema.js';
import { configSchema, type Config } from './schema.js';
import { catalogZoneEntry } from '../catalog/catalog.js';
import { readSecretFiles } from '../tsig/keys.js';
import { readDnssecKeys } from '../dnssec/online/load.js';
import { ConfigError, type ConfigIssue } from './error.js';

// The error type lives in its own module so the CLI can name it without loading every schema.
export { ConfigError, formatIssue, type ConfigIssue } from './error.js';

/** A loaded configuration: the validated values and the folder relative paths are resolved against. */
export interface LoadedConfig {
  config: Config;
  file: string;
  baseDir: string;
  /** The line of a key path in the file (e.g. ['zones', 0, 'file']), for errors found after validation. */
  lineOf?: (path: (string | number)[]) => number | undefined;
}

export function parseConfigText(text: string, file: string, baseDir = dirname(resolve(file))): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: lines.linePos(e.pos[0]).line, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const result = configSchema.safeParse(data);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => toConfigIssue(issue, doc, lines, file)));
  }
  const config = result.data;
  for (const z of config.zones) if (!isAbsolute(z.file)) z.file = resolve(baseDir, z.file);
  // The catalog zone (RFC 9432) is served like a configured zone, its records built from the others (src/catalog).
  if (config.catalog) config.zones.push(catalogZoneEntry(config.catalog, baseDir));
  for (const z of config.zones) for (const p of z.primaries ?? []) if (typeof p === 'object' && typeof p.tls === 'object' && p.tls.ca !== undefined && !isAbsolute(p.tls.ca)) p.tls.ca = resolve(baseDir, p.tls.ca);
  for (const l of config.listen) for (const f of ['cert', 'key'] as const) { const p = l[f]; if (p !== undefined && !isAbsolute(p)) l[f] = resolve(baseDir, p); }
  resolveCapabilityPaths(config, baseDir);
  if (config.dnstap) for (const f of ['socket', 'file'] as const) { const p = config.dnstap[f]; if (p !== undefined && !isAbsolute(p)) config.dnstap[f] = resolve(baseDir, p); }
  if (config.log.file !== undefined && !isAbsolute(config.log.file)) config.log.file = resolve(baseDir, config.log.file);
  if (config.pidFile !== undefined && !isAbsolute(config.pidFile)) config.pidFile = resolve(baseDir, config.pidFile);
  if (config.control && !isAbsolute(config.control.socket)) config.control.socket = resolve(baseDir, config.control.socket);
  // TSIG secrets kept in files (tsig.keys[].secretFile) are read now, so a bad one fails load and check.
  const secretIssues = readSecretFiles(config.tsig, baseDir);
  if (secretIssues.length > 0) throw new ConfigError(secretIssues.map((i) => toConfigIssue({ code: 'custom', path: i.path, message: i.message }, doc, lines, file)));
  // DNSSEC signing keys (zones/echo/policies/services[].dnssec.keys) likewise: a missing or unusable one fails load and check.
  const keyIssues = readDnssecKeys(config, baseDir);
  if (keyIssues.length > 0) throw new ConfigError(keyIssues.map((i) => toConfigIssue({ code: 'custom', path: i.path, message: i.message }, doc, lines, file)));
  return { config, file, baseDir, lineOf: (path) => lineOfPath(path, doc, lines) };
}

/** The line of the deepest node of `path` that exists in the document. */
function lineOfPath(path: (string | number)[], doc: Document, lines: LineCounter): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseConfigText(text, file);
}

function toConfigIssue(issue: ZodIssue, doc: Document, lines: LineCounter, file: string): ConfigIssue {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  let message = issue.message;
  if (issue.code === 'invalid_type') message = issue.received === 'undefined' ? `missing; expected ${issue.expected}` : `expected ${issue.expected}, found ${issue.received}`;
  else if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  else if (issue.code === 'invalid_enum_value') message = `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, found ${JSON.stringify(issue.received)}`;
  // The deepest node of the path that exists in the document gives the line.
  return { file, line: lineOfPath(issue.path, doc, lines), path, message };
}
