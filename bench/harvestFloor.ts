import https from 'node:https';
import { elapsedMs } from './BenchSection.js';

/** Where the benchmark's Kubernetes simulator listens and how to call it. */
export interface KubeTarget {
  url: string;
  token: string;
  caData: string | undefined;
}

function get(agent: https.Agent, target: KubeTarget, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${target.url}${path}`,
      { agent, headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`GET ${path}: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`GET ${path} timed out`)));
  });
}

/**
 * **The harvest floor**: the same pages as the harvest (`limit`, `continue`), each a bare keep-alive
 * `https.get` + `JSON.parse`, nothing else. Returns its time, the items and the bytes read.
 */
export async function harvestFloor(
  target: KubeTarget,
  pageSize: number,
): Promise<{ ms: number; items: number; bytes: number }> {
  const agent = new https.Agent({
    keepAlive: true,
    ...(target.caData ? { ca: Buffer.from(target.caData, 'base64').toString('utf8') } : {}),
  });
  try {
    const started = process.hrtime.bigint();
    let items = 0;
    let bytes = 0;
    let cont: string | undefined;
    do {
      const body = await get(
        agent,
        target,
        `/api/v1/services?limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      );
      bytes += body.length;
      const page = JSON.parse(body.toString('utf8')) as {
        items: unknown[];
        metadata?: { continue?: string };
      };
      items += page.items.length;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { ms: elapsedMs(started), items, bytes };
  } finally {
    agent.destroy();
  }
}
