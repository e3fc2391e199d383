// The package's version, read once from package.json (beside src/ and dist/, so one relative URL serves both).
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
