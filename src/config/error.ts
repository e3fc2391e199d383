// A configuration error: every issue with file, line and key path. Kept apart from load.ts, which imports
// every module's schema (≈ 0.4 s), so that commands which only report such errors do not pay for that.
export interface ConfigIssue {
  file: string;
  line?: number;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line === undefined ? i.file : `${i.file}:${i.line}`;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}
