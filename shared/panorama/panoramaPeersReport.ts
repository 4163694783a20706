import type { PanoramaPeerStatus } from './PanoramaClient.js';

/** The HA section of `status`: each peer as it reports itself now. */
export interface PanoramaPeersReport {
  /** The peer calls go to (`undefined`: none is active; pushes and audits are retried). */
  active?: string;
  peers: (PanoramaPeerStatus & { since?: string })[];
}

/** What {@link panoramaPeersReport} needs of the Panorama adapter (`PanoramaClient` has it). */
interface DescribesPeers {
  readonly isHaPair: boolean;
  describePeers(): Promise<PanoramaPeerStatus[]>;
}

function describesPeers(api: unknown): api is DescribesPeers {
  const a = api as Partial<DescribesPeers> | null;
  return typeof a?.describePeers === 'function' && typeof a.isHaPair === 'boolean';
}

/**
 * For an HA pair, asks both peers their HA state now (the CLI is another process than the
 * functions, so it asks rather than reading a stored view) and says which one is used and since
 * when it has been in its state (`now` − `state-duration`). One URL: `undefined` (no extra call).
 */
export async function panoramaPeersReport(api: unknown, now: Date): Promise<PanoramaPeersReport | undefined> {
  if (!describesPeers(api) || !api.isHaPair) return undefined;
  const peers = (await api.describePeers()).map((p) => ({
    ...p,
    ...(p.stateDurationSeconds === undefined
      ? {}
      : { since: new Date(now.getTime() - p.stateDurationSeconds * 1000).toISOString() }),
  }));
  const active = peers.find((p) => p.inUse)?.url;
  return { ...(active ? { active } : {}), peers };
}

/** The text of the HA section: one headline and one line per peer. */
export function formatPanoramaPeers(report: PanoramaPeersReport): string {
  const head = report.active
    ? `Panorama HA pair: active peer ${report.active}`
    : 'Panorama HA pair: NO ACTIVE PEER — pushes and audits are retried until one peer is active';
  const lines = report.peers.map((p) => {
    const state =
      p.role === 'unreachable'
        ? `unreachable (${p.reason ?? 'no answer'})`
        : `${p.role} (${p.state ?? 'no state'})`;
    const since = p.since ? ` since ${p.since}` : '';
    return `  ${p.url}  ${state}${since}${p.inUse ? '  ← in use' : ''}${p.proxy ? `  via ${p.proxy}` : ''}`;
  });
  return `${[head, ...lines].join('\n')}\n`;
}
