// The built-in demo: what `fluxdns serve` runs without --config, on loopback only.
import { fileURLToPath } from 'node:url';
import { parseConfigText, type LoadedConfig } from './load.js';

/** demo/ sits beside src/ and dist/ in the package, so one relative URL serves both. */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));

export const DEMO_YAML = `# fluxdns built-in demo configuration
listen:
  - { proto: udp, address: "127.0.0.1:5353" }
  - { proto: tcp, address: "127.0.0.1:5353" }
zones:
  - { name: example.lab., file: example.lab.zone }
nsid: fluxdns-demo
`;

export function demoConfig(): LoadedConfig {
  return parseConfigText(DEMO_YAML, '<built-in demo>', DEMO_DIR);
}

/** The commands the demo prints and the README lists (a test runs each of them). */
export function demoCommands(port = 5353): string[] {
  const at = `dig @127.0.0.1 -p ${port}`;
  return [
    `${at} www.example.lab AAAA`,
    `${at} example.lab MX`,
    `${at} web.example.lab A`,
    `${at} anything.apps.example.lab TXT`,
    `${at} x.old.example.lab A`,
    `${at} missing.example.lab A`,
    `${at} host.lab2.example.lab A`,
    `${at} +tcp _http._tcp.example.lab SRV`,
    `${at} +nsid example.lab SOA`,
  ];
}
