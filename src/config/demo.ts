// The built-in demo: what `fluxdns serve` runs without --config, on loopback only.
import { fileURLToPath } from 'node:url';
import { parseConfigText, type LoadedConfig } from './load.js';

/** demo/ sits beside src/ and dist/ in the package, so one relative URL serves both. */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));

export const DEMO_YAML = `# fluxdns built-in demo configuration
listen:
  - { proto: udp, address: "127.0.0.1:5353" }
  - { proto: tcp, address: "127.0.0.1:5353" }
  # DoT and DoH with a self-signed, demo-only certificate for 127.0.0.1 (demo/demo-tls-*.pem)
  - { proto: tls, address: "127.0.0.1:8853", cert: demo-tls-cert.pem, key: demo-tls-key.pem }
  - { proto: https, address: "127.0.0.1:8443", cert: demo-tls-cert.pem, key: demo-tls-key.pem }
zones:
  # Online DNSSEC signing with a demo-only key (demo/Kexample.lab+013+24761.*: published, never use it elsewhere)
  - { name: example.lab., file: example.lab.zone, dnssec: { sign: online, keys: [Kexample.lab+013+24761] } }
  # TTL randomization against cache snooping: each answer's TTL drawn in [60, 300] (seed 001)
  - { name: jitter.lab., file: jitter.lab.zone, ttlJitter: { min: 60 } }
nsid: fluxdns-demo
# DNS Cookies (RFC 7873/9018): every response to a query with a client cookie carries a server cookie.
cookies: { mode: answer }
# TSIG (RFC 8945). DEMO ONLY: this secret is published in the README; never use it anywhere else.
tsig:
  keys:
    - { name: demo-key, algorithm: hmac-sha256, secret: "fyUY+enEEA0F8dE3yI6CgebtvIgDMPr94JIsTc9qvf8=" }
# Stateless DNS (seed 003): every answer synthesized from the query name (data.METHOD.alias.echo.lab)
echo:
  - { zone: echo.lab., nsAddress: 127.0.0.1 }
# Data plane: every address of 127.77.1.0/28 on TCP port 5380 relays to the demo's hello backend (PROXY v2).
# bind: each gives every served address its own socket, so the demo accepts nothing beyond loopback
# (a wildcard socket would complete handshakes from other hosts on port 5380 and 5382).
gateway:
  bind: each
  listeners:
    - { prefixes: [127.77.1.0/28], ports: [tcp/5380] }
    - { prefixes: [127.78.0.0/26], ports: [tcp/5382] } # the capability pool: only leased addresses get through
  dispatch:
    - { prefix: 127.77.1.0/28, proto: tcp, ports: 5380, backend: "127.0.0.1:5381", proxyProtocol: true }
# Policy-first addressing: any name under cdn.lab is answered with a fresh address from one pool.
pools:
  - { name: cdn, prefixes: [198.18.0.0/24, "2001:db8:18::/64"] }
  - { name: caps, prefixes: [127.78.0.0/26] }
policies:
  - { name: cdn, match: { qname: "*.cdn.lab", qtype: [A, AAAA] }, action: { pool: cdn, ttl: 30 }, zone: cdn.lab }
# DNS answers as capabilities (seed 000): app.example.lab gets a fresh 127.78.0.x per resolver for 20 s;
# the gateway relays a flow to it (to the hello backend) only under that lease, then for seen sources.
services:
  - { name: app.example.lab, target: "127.0.0.1:5381", ports: [tcp/5382], pool: caps, proxyProtocol: true }
capabilities:
  admin: { listen: "127.0.0.1:5383", token: demo-admin-token-not-secret }
# fluxdns ctl talks to the server on this unix socket (mode 0600: only its owner may connect).
control: { socket: /tmp/fluxdns-demo-5353.ctl }
# Prometheus metrics at /metrics and the live dashboard at http://127.0.0.1:5384/ (src/observe/metrics)
metrics: { listen: "127.0.0.1:5384" }
`;

/** The HTTP hello backend `serve` starts with the demo, behind the demo gateway (fixed ports: --port moves only DNS). */
export const DEMO_GATEWAY_BACKEND = { host: '127.0.0.1', port: 5381 };

/**
 * Every port the demo uses, with its offset from the DNS port. `serve --port N` puts each at N plus
 * its offset, so a second demo, or a test beside a running one, never collides with the first. A
 * feature that adds a port to the demo adds it here.
 */
export const DEMO_PORTS: Readonly<Record<number, number>> = { 5353: 0, 8853: 1, 8443: 2, 5380: 3, 5381: 4, 5382: 5, 5383: 6, 5384: 7 };

/** `text` with each demo port moved to its place for DNS port `base` (5353: unchanged). */
export function moveDemoPorts(text: string, base = 5353): string {
  if (base === 5353) return text;
  return text.replace(/(?<![\d.])(5353|8853|8443|5380|5381|5382|5383|5384)(?!\d)/g, (p) => String(base + DEMO_PORTS[Number(p)]!));
}

export function demoConfig(base = 5353): LoadedConfig {
  return parseConfigText(moveDemoPorts(DEMO_YAML, base), '<built-in demo>', DEMO_DIR);
}

/** The demo's hello backend for DNS port `base`. */
export function demoGatewayBackend(base = 5353): { host: string; port: number } {
  return { host: DEMO_GATEWAY_BACKEND.host, port: Number(moveDemoPorts(String(DEMO_GATEWAY_BACKEND.port), base)) };
}

/** A command the demo prints and the README lists; the demo test runs it and checks `expect`. */
export interface DemoCommand {
  /** Shell command with 5353 as the port; the server substitutes the port it really uses. */
  command: string;
  /** What it shows, for the README and the printed list. */
  shows: string;
  /** Matched against the command's output by the demo test. */
  expect: RegExp;
}

/**
 * Every feature that lands adds its demo here: one entry, with the output it must produce.
 * The order is the order printed and documented.
 */
export const DEMO_COMMANDS: readonly DemoCommand[] = [
  {
    command: 'dig @127.0.0.1 -p 5353 www.example.lab AAAA',
    shows: 'an AAAA answer',
    expect: /status: NOERROR[\s\S]*flags: qr aa rd;[\s\S]*www\.example\.lab\.\s+3600\s+IN\s+AAAA\s+2001:db8::80/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 example.lab MX',
    shows: "MX with the mail host's address in the additional section",
    expect: /MX\s+10 mail\.example\.lab\.[\s\S]*ADDITIONAL SECTION:\s*\nmail\.example\.lab\.\s+3600\s+IN\s+A\s+198\.51\.100\.25/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 web.example.lab A',
    shows: 'a CNAME followed to its target',
    expect: /web\.example\.lab\.\s+3600\s+IN\s+CNAME\s+www\.example\.lab\.\s*\nwww\.example\.lab\.\s+3600\s+IN\s+A\s+198\.51\.100\.80/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 anything.apps.example.lab TXT',
    shows: 'a wildcard answer',
    expect: /anything\.apps\.example\.lab\.\s+3600\s+IN\s+TXT\s+"served by the wildcard/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 x.old.example.lab A',
    shows: 'a DNAME with its synthesized CNAME',
    expect: /old\.example\.lab\.\s+3600\s+IN\s+DNAME\s+apps\.example\.lab\.[\s\S]*x\.old\.example\.lab\.\s+3600\s+IN\s+CNAME\s+x\.apps\.example\.lab\.[\s\S]*IN\s+A\s+203\.0\.113\.10/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 missing.example.lab A',
    shows: 'NXDOMAIN with the SOA',
    expect: /status: NXDOMAIN[\s\S]*AUTHORITY SECTION:\s*\nexample\.lab\.\s+300\s+IN\s+SOA/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 host.lab2.example.lab A',
    shows: 'a referral: no aa flag, NS in authority, glue',
    expect: /status: NOERROR[\s\S]*flags: qr rd;[\s\S]*ANSWER: 0[\s\S]*lab2\.example\.lab\.\s+3600\s+IN\s+NS\s+ns\.lab2\.example\.lab\.[\s\S]*ns\.lab2\.example\.lab\.\s+3600\s+IN\s+A\s+198\.51\.100\.54/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 +tcp _http._tcp.example.lab SRV',
    shows: 'SRV over TCP, with the target addresses',
    expect: /SRV\s+10 60 80 www\.example\.lab\.[\s\S]*www\.example\.lab\.\s+3600\s+IN\s+A\s+198\.51\.100\.80/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 +nsid example.lab SOA',
    shows: "the server's NSID",
    expect: /NSID: .*\("fluxdns-demo"\)/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 +cookie example.lab SOA',
    shows: 'a DNS Cookie: the client cookie echoed with an RFC 9018 server cookie (version 1, timestamp, SipHash-2-4)',
    expect: /; COOKIE: [0-9a-f]{16}01000000[0-9a-f]{24} \(good\)/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 -y hmac-sha256:demo-key:fyUY+enEEA0F8dE3yI6CgebtvIgDMPr94JIsTc9qvf8= example.lab SOA',
    shows: 'a TSIG-signed query (RFC 8945) with the demo-only key: the answer comes back signed and dig verifies it',
    expect: /^(?![\s\S]*(failure|could not be validated))[\s\S]*status: NOERROR[\s\S]*;; TSIG PSEUDOSECTION:\s*\ndemo-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 +dnssec www.example.lab AAAA',
    shows: 'DNSSEC: with the DO bit the answer carries its RRSIG, made as it is sent (online signing, ECDSAP256SHA256)',
    expect: /status: NOERROR[\s\S]*www\.example\.lab\.\s+3600\s+IN\s+AAAA\s+2001:db8::80\s*\nwww\.example\.lab\.\s+3600\s+IN\s+RRSIG\s+AAAA 13 3 3600 \d{14} \d{14} 24761 example\.lab\. \S+/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 198.51.100.7.da.box.echo.lab A',
    shows: 'Stateless DNS, DA method: the alias box gets a DNAME to the echo domain, and the data (seed 003 §2.7.1)',
    expect: /status: NOERROR[\s\S]*box\.echo\.lab\.\s+10000\s+IN\s+DNAME\s+00\.198\.51\.100\.7\.00\.echo\.lab\.\s*\n198\.51\.100\.7\.da\.00\.198\.51\.100\.7\.00\.echo\.lab\.\s+10000\s+IN\s+A\s+198\.51\.100\.7/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 198.51.100.8.da.00.198.51.100.7.00.echo.lab A',
    shows: 'retrieve-or-store: a resolver holding that DNAME asks this, and the first data wins (§2.7.4)',
    expect: /198\.51\.100\.8\.da\.00\.198\.51\.100\.7\.00\.echo\.lab\.\s+10000\s+IN\s+A\s+198\.51\.100\.7\s*\n/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 color=%42lue.ca.box.echo.lab TXT',
    shows: 'CA method with TXT data (%42 is an escaped B): a CNAME to the alias and its TXT record (§2.5.1)',
    expect: /color=%42lue\.ca\.box\.echo\.lab\.\s+10000\s+IN\s+CNAME\s+box\.echo\.lab\.\s*\nbox\.echo\.lab\.\s+10000\s+IN\s+TXT\s+"color=Blue"/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 198.51.100.53.nr.svc.echo.lab A',
    shows: 'NR method: svc.echo.lab delegated to a host at the data address, no aa flag (§2.8.3)',
    expect: /flags: qr rd;[\s\S]*AUTHORITY SECTION:\s*\nsvc\.echo\.lab\.\s+86400\s+IN\s+NS\s+nr\.svc\.echo\.lab\.[\s\S]*ADDITIONAL SECTION:\s*\nnr\.svc\.echo\.lab\.\s+86400\s+IN\s+A\s+198\.51\.100\.53/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 www.jitter.lab A',
    shows: 'a TTL drawn at random between 60 and 300 (ttlJitter), new on every query',
    expect: /status: NOERROR[\s\S]*www\.jitter\.lab\.\s+(6\d|[7-9]\d|[12]\d\d|300)\s+IN\s+A\s+198\.51\.100\.81/,
  },
  {
    command: 'kdig @127.0.0.1 -p 8853 +tls example.lab SOA',
    shows: 'the SOA over DNS over TLS (RFC 7858), padded to 468 bytes (RFC 8467)',
    expect: /TLS session[\s\S]*PADDING: \d+ B[\s\S]*example\.lab\.\s+3600\s+IN\s+SOA\s+ns1\.example\.lab\.[\s\S]*Received 468 B/,
  },
  {
    command: 'kdig @127.0.0.1 -p 8443 +https www.example.lab A',
    shows: 'an A answer over DNS over HTTPS (RFC 8484, HTTP/2 POST to /dns-query)',
    expect: /HTTP session \(HTTP\/2-POST\)-\(127\.0\.0\.1\/dns-query\)-\(status: 200\)[\s\S]*www\.example\.lab\.\s+3600\s+IN\s+A\s+198\.51\.100\.80/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 any-name-at-all.cdn.lab A',
    shows: 'policy-first addressing: a random address from the cdn pool for any name (seed 002)',
    expect: /status: NOERROR[\s\S]*any-name-at-all\.cdn\.lab\.\s+30\s+IN\s+A\s+198\.18\.0\.(\d+)/,
  },
  {
    command: 'fluxdns explain --qname www.cdn.lab --qtype AAAA --client 127.0.0.1',
    shows: 'which policy decides a query, and why',
    expect: /policy 1 "cdn": MATCH \(qname \*\.cdn\.lab; qtype A\|AAAA\)\naction: pool cdn \(ttl 30, count 1\)[\s\S]*www\.cdn\.lab\. 30 IN AAAA 2001:db8:18:/,
  },
  {
    command: 'curl -s http://127.77.1.2:5380/',
    shows: 'the gateway: any address of 127.77.1.0/28 reaches the backend, which learns the dialled address by PROXY v2',
    expect: /^hello from behind the fluxdns gateway: client 127\.0\.0\.1 dialled 127\.77\.1\.2:\d+$/m,
  },
  {
    command: 'fluxdns simulate generate --out /tmp/fluxdns-demo-connections.csv --seconds 600 --seed 1',
    shows: 'a synthetic connection log: Poisson arrivals, Zipf-popular servers, clients in /24s behind resolvers (seed 000 §3.3)',
    expect: /^wrote 30,134 connections to \/tmp\/fluxdns-demo-connections\.csv: 600 s at 50\/s/m,
  },
  {
    command: 'fluxdns simulate --log /tmp/fluxdns-demo-connections.csv --ttl 20 --pool-size 560',
    shows: 'pool sizing: how many addresses a capability table needs per second, and how long a pool of 560 falls short',
    expect: /peak {4}595 \(at 579 s\)\n {2}median {2}539\n {2}p99 {5}586\n[\s\S]*above pool 560: \d+ s/,
  },
  {
    command: 'dig @127.0.0.1 -p 5353 app.example.lab A',
    shows: 'a capability (seed 000): a fresh address from the 127.78.0.0/26 pool, leased to this resolver for 20 s',
    expect: /status: NOERROR[\s\S]*app\.example\.lab\.\s+([1-9]|1\d|20)\s+IN\s+A\s+127\.78\.\d+\.\d+/,
  },
  {
    command: 'fluxdns caps try app.example.lab --resolver 127.0.0.1:5353 --port 5382',
    shows: 'the same lease (remaining TTL), and a connection to it that the gateway admits and relays to the backend',
    expect: /granted: app\.example\.lab\. \d+ IN A 127\.78\.\d+\.\d+\nhello from behind the fluxdns gateway: client 127\.0\.0\.1 dialled 127\.78\.\d+\.\d+:\d+/,
  },
  {
    command: 'fluxdns caps list --admin 127.0.0.1:5383 --token demo-admin-token-not-secret',
    shows: 'the leases, from the admin API: address, target, phase, remaining TTL, the hosts that used it',
    expect: /app\.example\.lab\.\s+127\.78\.\d+\.\d+\s+tcp\/\d+ -> 127\.0\.0\.1:\d+\s+live ttl \d+s\s+resolver 127\.0\.0\.1\s+hosts 1/,
  },  {
    command: 'fluxdns ctl --socket /tmp/fluxdns-demo-5353.ctl status',
    shows: 'the running server over its control socket: version, uptime, listeners, zones (fluxdns ctl --help lists reload ZONE, zone status, stats, cache flush, caps)',
    expect: /^fluxdns \d+\.\d+\.\d+\S*, pid \d+, up \d+h\d\dm\d\ds\n[\s\S]*listeners {2}udp 127\.0\.0\.1:\d+, tcp 127\.0\.0\.1:\d+[\s\S]*zones {6}2: example\.lab\. \(serial \d+\), jitter\.lab\. \(serial \d+\)/m,
  },
  {
    command: 'fluxdns ctl --socket /tmp/fluxdns-demo-5353.ctl reload example.lab',
    shows: "one zone re-read from its file and swapped in alone (an error is printed, exit 1, and the old zone keeps serving)",
    expect: /^reloaded zone example\.lab\. in 1 process\n {2}example\.lab\. serial \d+, \d+ records$/m,
  },
  {
    command: 'curl -s http://127.0.0.1:5384/metrics',
    shows: 'Prometheus metrics: the queries above by transport, qtype and rcode, latency, capability grants and leases (the live dashboard is at http://127.0.0.1:5384/)',
    expect: /fluxdns_queries_total\{transport="udp",qtype="AAAA",rcode="NOERROR"\} [1-9][\s\S]*fluxdns_capability_grants_total\{kind="new"\} [1-9]/,
  },
];

/**
 * `serve --port N` on a configuration file moves UDP and TCP listeners to N and each encrypted
 * listener to N plus this offset, so DoT and DoH do not collide with TCP on N.
 */
export const PORT_OFFSET: Readonly<Record<string, number>> = { udp: 0, tcp: 0, tls: 1, https: 2 };

/** The demo commands for the DNS port the server really listens on. */
export function demoCommands(port = 5353): string[] {
  return DEMO_COMMANDS.map((c) => moveDemoPorts(c.command, port));
}
