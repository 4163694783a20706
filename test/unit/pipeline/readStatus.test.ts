import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { formatStatus } from '../../../shared/pipeline/collectStatus.js';
import { readStatus } from '../../../shared/pipeline/readStatus.js';
import { renderStatusPage } from '../../../shared/statusPage/renderStatusPage.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';

const SUB_EVENTS = '11111111-1111-1111-1111-111111111111';
const SUB_OTHER = '22222222-2222-2222-2222-222222222222';

function cluster(name: string, subscriptionId?: string): ClusterConfig {
  return {
    name,
    auth: { type: 'azureAd' },
    labelSelectors: [],
    deviceGroups: ['dg-1'],
    ...(subscriptionId ? { subscriptionId, resourceGroup: 'rg-aks' } : {}),
  };
}

async function statusWith(eventGridSubscriptions?: readonly string[]) {
  const { deps } = memoryDeps({
    clusters: [cluster('aks-covered', SUB_EVENTS), cluster('aks-other', SUB_OTHER), cluster('aks-no-arm')],
    services: [],
    firewalls: [],
    ...(eventGridSubscriptions ? { overrides: { eventGridSubscriptions } } : {}),
  });
  return readStatus(deps);
}

describe('readStatus: how each cluster gets its changes', () => {
  it('marks clusters outside EVENT_GRID_SUBSCRIPTIONS timer-only, with the reason', async () => {
    const { report } = await statusWith([SUB_EVENTS]);
    const events = Object.fromEntries(report.clusters.map((c) => [c.cluster, c.events]));
    expect(events).toEqual({
      'aks-covered': { mode: 'events' },
      'aks-other': {
        mode: 'timer-only',
        reason: expect.stringContaining(`subscription ${SUB_OTHER} has no Event Grid subscription`),
      },
      'aks-no-arm': {
        mode: 'timer-only',
        reason: expect.stringContaining('no subscriptionId and resourceGroup'),
      },
    });
    const text = formatStatus(report);
    expect(text).toMatch(
      /cluster aks-other[^\n]*\n {2}events: timer-only, changes arrive with the reconcile timer/,
    );
    expect(text).not.toMatch(/cluster aks-covered[^\n]*\n {2}events:/);
    const page = renderStatusPage({ report, attention: [] });
    expect(page.match(/timer-only: changes arrive with the reconcile timer/g)).toHaveLength(2);
  });

  it('says nothing about events while EVENT_GRID_SUBSCRIPTIONS is unknown, except for clusters no event can match', async () => {
    const { report } = await statusWith();
    expect(report.clusters.map((c) => [c.cluster, c.events?.mode])).toEqual([
      ['aks-covered', 'unknown'],
      ['aks-no-arm', 'timer-only'],
      ['aks-other', 'unknown'],
    ]);
    expect(formatStatus(report).match(/events: timer-only/g)).toHaveLength(1);
  });

  it('says every cluster is timer-only before phase two created any event subscription', async () => {
    const { report } = await statusWith([]);
    const covered = report.clusters.find((c) => c.cluster === 'aks-covered');
    expect(covered?.events).toEqual({ mode: 'timer-only', reason: expect.stringContaining('phase two') });
  });
});
