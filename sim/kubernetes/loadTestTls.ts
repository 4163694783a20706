import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** TLS material of an HTTPS simulator: server certificate and key, and the CA that signed them (PEM). */
export interface SimulatorTls {
  cert: string;
  key: string;
  /** PEM of the CA clients must trust. */
  ca: string;
}

/**
 * Loads the test-only TLS material of `test/fixtures/tls` (a private CA and a certificate for
 * `localhost`, `127.0.0.1` and `::1`). Found by walking up from this module, so it works from the
 * sources and from `dist/`. Never use it outside tests and the local demo.
 */
export function loadTestTls(): SimulatorTls {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const tlsDir = join(dir, 'test', 'fixtures', 'tls');
    if (existsSync(join(tlsDir, 'ca.pem'))) {
      const read = (f: string) => readFileSync(join(tlsDir, f), 'utf8');
      return { cert: read('server.pem'), key: read('server-key.pem'), ca: read('ca.pem') };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('test/fixtures/tls not found above the simulator module');
    dir = parent;
  }
}
