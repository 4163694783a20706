import { defineHttpFunction } from '../shared/functionSpecs.js';
import { panoramaPeersReport } from '../shared/panorama/panoramaPeersReport.js';
import { collectStatus } from '../shared/pipeline/collectStatus.js';
import { getRuntime } from '../shared/runtime/createRuntime.js';

/** `GET /api/status` (function key): per cluster and target status, queue and poison depths. */
export const status = defineHttpFunction({
  name: 'status',
  route: 'status',
  methods: ['GET'],
  authLevel: 'function',
  handler: async () => {
    const { deps } = getRuntime();
    const monitored = (await deps.clusters.listClusters()).map((c) => c.name);
    const [report, panorama] = await Promise.all([
      collectStatus({ ...deps, monitored }),
      panoramaPeersReport(deps.panorama, deps.now()),
    ]);
    return { status: 200, jsonBody: { ...report, ...(panorama ? { panorama } : {}) } };
  },
});
