import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { KubeService } from '../shared/kubernetes/KubeService.js';
import { toKubeService } from '../shared/kubernetes/toKubeService.js';
import type { KubeTarget } from './harvestFloor.js';

/**
 * The harvest as it was before issue #12 (the comparator of `bench/harvestBench.ts`):
 * `CoreV1Api.listServiceForAllNamespaces` page by page (a new `https.Agent`, so a TLS handshake,
 * per request; decoded by client-node's `ObjectSerializer`), then the same {@link toKubeService}.
 */
export async function clientNodeHarvest(target: KubeTarget, pageSize: number): Promise<KubeService[]> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'bench',
        server: target.url,
        ...(target.caData ? { caData: target.caData } : {}),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'bench', token: target.token }],
    contexts: [{ name: 'bench', cluster: 'bench', user: 'bench' }],
    currentContext: 'bench',
  });
  const api = kc.makeApiClient(CoreV1Api);
  const items: KubeService[] = [];
  let cont: string | undefined;
  do {
    const page = await api.listServiceForAllNamespaces({
      limit: pageSize,
      ...(cont ? { _continue: cont } : {}),
    });
    for (const s of page.items) items.push(toKubeService(s));
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return items;
}
