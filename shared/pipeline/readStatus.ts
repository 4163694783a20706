import { type PanoramaPeersReport, panoramaPeersReport } from '../panorama/panoramaPeersReport.js';
import { collectStatus, type StatusReport } from './collectStatus.js';
import { eventCoverageByCluster } from './eventCoverage.js';
import type { PipelineDeps } from './PipelineDeps.js';

/** What `status` shows (the CLI, the status function's JSON and its page): the report and the HA peers. */
export interface StatusReading {
  report: StatusReport;
  /** The Panorama HA pair, when `PANORAMA_URL` names two peers. */
  panorama?: PanoramaPeersReport;
}

/**
 * Reads the status of every monitored cluster, with how its changes arrive (events or the timer
 * only, from `EVENT_GRID_SUBSCRIPTIONS`), and asks a Panorama HA pair which peer is active. Read-only.
 */
export async function readStatus(deps: PipelineDeps): Promise<StatusReading> {
  const clusters = await deps.clusters.listClusters();
  const [report, panorama] = await Promise.all([
    collectStatus({
      ...deps,
      monitored: clusters.map((c) => c.name),
      eventCoverage: eventCoverageByCluster(clusters, deps.eventGridSubscriptions),
    }),
    panoramaPeersReport(deps.panorama, deps.now()),
  ]);
  return { report, ...(panorama ? { panorama } : {}) };
}
