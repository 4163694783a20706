import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/CliIo.js';
import { runCli } from '../../../cli/runCli.js';

/**
 * A ~50 MB ServiceList (as `kubectl get svc -A -o json` prints, with the usual annotation bulk)
 * through `tags` on stdin: it finishes and prints the right IPs; the same list truncated exits 2
 * with a one-line error.
 */

const TARGET_BYTES = 50 * 1024 * 1024;
const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';
const PADDING = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { annotations: {}, labels: { app: 'x'.repeat(200) } },
  spec: {
    ports: Array.from({ length: 12 }, (_, p) => ({ name: `port-${p}`, port: 8000 + p, protocol: 'TCP' })),
  },
  note: 'n'.repeat(700),
});

function ipv4(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

interface Generated {
  chunks: Buffer[];
  bytes: number;
  /** IPs a correct `tags` prints, computed independently of the tag engine. */
  expectedIps: Set<string>;
  /** Items that must each give one `error:` line. */
  expectedErrors: number;
  /** A sample: IP → tags it must have. */
  sample: Map<string, string[]>;
}

/** Item `i` of the list: most are internal LBs; some are other Service types or hostile. */
function item(i: number, g: Generated): string {
  if (i % 997 === 0) {
    g.expectedErrors += 1;
    return 'null';
  }
  const name = `svc-${i}`;
  const ns = `ns-${i % 50}`;
  const labels: Record<string, string> = { app: `app-${i % 100}`, tier: i % 2 ? 'front' : 'back' };
  const annotations: Record<string, string> = { 'kubectl.kubernetes.io/last-applied-configuration': PADDING };
  let type = 'LoadBalancer';
  const ips: string[] = [];
  let counted = true;
  if (i % 5 === 0) {
    type = 'ClusterIP';
    counted = false;
  } else if (i % 7 === 0) {
    counted = false; // an external (public) LoadBalancer: not tagged
  } else annotations[INTERNAL] = i % 3 === 0 ? 'True' : 'true';
  ips.push(ipv4(i));
  if (i % 10 === 1) ips.push(`FD00::${i.toString(16).toUpperCase()}`);
  if (i % 13 === 0 && counted) {
    ips.length = 0;
    ips.push('fe80::1%eth0');
    g.expectedErrors += 1;
    counted = false;
  }
  if (i % 17 === 0) labels.note = '<&>"'; // refused label: one error line, other tags still made
  if (i % 17 === 0 && counted) g.expectedErrors += 1;
  if (counted) {
    for (const ip of ips) g.expectedIps.add(ip.includes(':') ? ip.toLowerCase() : ip);
    if (i % 1000 === 1)
      g.sample.set(ipv4(i), [
        `aks.aks-big.${name}`,
        `aks.aks-big.svc.app.app-${i % 100}`,
        `aks.aks-big.svc.tier.front`,
      ]);
  }
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ns,
      uid: `00000000-0000-0000-0000-${i.toString(16).padStart(12, '0')}`,
      resourceVersion: String(100_000 + i),
      labels,
      annotations,
    },
    spec: { type, clusterIP: '172.16.0.1', ports: [{ port: 443, protocol: 'TCP', targetPort: 8443 }] },
    status: { loadBalancer: type === 'LoadBalancer' ? { ingress: ips.map((ip) => ({ ip })) } : {} },
  });
}

function generate(): Generated {
  const g: Generated = { chunks: [], bytes: 0, expectedIps: new Set(), expectedErrors: 0, sample: new Map() };
  const push = (text: string) => {
    const b = Buffer.from(text, 'utf8');
    g.chunks.push(b);
    g.bytes += b.length;
  };
  push('{"apiVersion":"v1","kind":"List","items":[');
  for (let i = 1; g.bytes < TARGET_BYTES; i++) push(`${i > 1 ? ',' : ''}${item(i, g)}`);
  push('],"metadata":{"resourceVersion":""}}');
  return g;
}

function cliIo(chunks: Buffer[]): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdin: Readable.from(chunks),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd: process.cwd(),
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('a 50 MB ServiceList through `tags`', () => {
  const g = generate();

  it('finishes and prints every IP with the right tags', async () => {
    expect(g.bytes).toBeGreaterThanOrEqual(TARGET_BYTES);
    const io = cliIo(g.chunks);
    const code = await runCli(['tags', '--cluster', 'aks-big'], io);
    expect(code).toBe(0);
    const printed = JSON.parse(io.out()) as Record<string, string[]>;
    expect(Object.keys(printed).length).toBe(g.expectedIps.size);
    expect(new Set(Object.keys(printed))).toEqual(g.expectedIps);
    for (const [ip, tags] of g.sample) expect(printed[ip]).toEqual(tags);
    const errLines = io
      .err()
      .split('\n')
      .filter((l) => l.startsWith('error: '));
    expect(errLines).toHaveLength(g.expectedErrors);
    expect(errLines.some((l) => /Service "ns-\d+\/svc-\d+" in cluster aks-big: label "note"/.test(l))).toBe(
      true,
    );
  }, 180_000);

  it('truncated, exits 2 with a one-line error', async () => {
    const all = Buffer.concat(g.chunks);
    const cut = all.subarray(0, all.length - 12_345);
    const io = cliIo([cut.subarray(0, cut.length >> 1), cut.subarray(cut.length >> 1)]);
    const code = await runCli(['tags', '--cluster', 'aks-big'], io);
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    const err = io.err();
    expect(err.endsWith('\n')).toBe(true);
    expect(err.slice(0, -1)).not.toContain('\n');
    expect(err).toMatch(/^aks-panorama-sync tags: stdin is not valid JSON: /);
    expect(err.length).toBeLessThan(1000);
  }, 180_000);
});
