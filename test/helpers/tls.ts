// A throwaway self-signed certificate for 127.0.0.1/localhost, made with openssl in a test's temp dir.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface TestCert {
  cert: string;
  key: string;
}

export function makeTestCert(dir: string): TestCert {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}
