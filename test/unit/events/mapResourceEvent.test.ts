import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { mapResourceEvent, parseResourceId } from '../../../shared/events/mapResourceEvent.js';

const SUB = 'aaaaaaaa-0000-0000-0000-000000000001';
const clusters: ClusterConfig[] = [
  {
    name: 'aks-prod-1',
    subscriptionId: SUB,
    resourceGroup: 'rg-prod',
    nodeResourceGroup: 'MC_rg-prod_aks-prod-1_westeurope',
    resourceId: `/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod-1`,
    auth: { type: 'azureAd' },
    labelSelectors: [],
    deviceGroups: [],
  },
];

const lb = `/subscriptions/${SUB}/resourcegroups/mc_rg-prod_aks-prod-1_westeurope/providers/Microsoft.Network/loadBalancers/kubernetes-internal`;
const mc = `/subscriptions/${SUB.toUpperCase()}/resourcegroups/RG-PROD/providers/microsoft.containerservice/managedclusters/AKS-PROD-1`;

function ev(eventType: string, subject: unknown, data: unknown = {}) {
  return {
    id: '1',
    eventType,
    subject,
    eventTime: '2026-01-01T00:00:00Z',
    dataVersion: '2',
    metadataVersion: '1',
    data,
  };
}

describe('mapResourceEvent', () => {
  it.each([
    [
      'LB write in the node RG (any case)',
      ev('Microsoft.Resources.ResourceWriteSuccess', lb),
      { kind: 'recompute', cluster: 'aks-prod-1', deleted: false },
    ],
    [
      'LB delete in the node RG',
      ev('Microsoft.Resources.ResourceDeleteSuccess', lb),
      { kind: 'recompute', cluster: 'aks-prod-1', deleted: false },
    ],
    [
      'cluster write (IDs compared case-insensitively)',
      ev('Microsoft.Resources.ResourceWriteSuccess', mc),
      { kind: 'recompute', cluster: 'aks-prod-1', deleted: false },
    ],
    [
      'cluster delete',
      ev('Microsoft.Resources.ResourceDeleteSuccess', mc),
      { kind: 'recompute', deleted: true },
    ],
    [
      'agent pool delete is not a cluster delete',
      ev('Microsoft.Resources.ResourceDeleteSuccess', `${mc}/agentPools/np1`),
      { kind: 'recompute', deleted: false },
    ],
    [
      'resourceUri wins over subject',
      ev('Microsoft.Resources.ResourceWriteSuccess', '/x', { resourceUri: lb }),
      { kind: 'recompute' },
    ],
    [
      'our own listClusterUserCredential action',
      ev('Microsoft.Resources.ResourceActionSuccess', `${mc}/listClusterUserCredential`),
      { kind: 'ignored' },
    ],
    ['write failure events', ev('Microsoft.Resources.ResourceWriteFailure', lb), { kind: 'ignored' }],
    [
      'LB in another resource group',
      ev('Microsoft.Resources.ResourceWriteSuccess', lb.replace('mc_rg-prod', 'mc_rg-test')),
      { kind: 'ignored' },
    ],
    [
      'LB in the same RG name of another subscription',
      ev('Microsoft.Resources.ResourceWriteSuccess', lb.replace(SUB, 'bbbbbbbb-0000-0000-0000-000000000001')),
      { kind: 'ignored' },
    ],
    [
      'unknown cluster',
      ev('Microsoft.Resources.ResourceWriteSuccess', mc.replace('AKS-PROD-1', 'aks-other')),
      { kind: 'ignored' },
    ],
    [
      'storage account',
      ev(
        'Microsoft.Resources.ResourceWriteSuccess',
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st`,
      ),
      { kind: 'ignored' },
    ],
    [
      'subject that is not a resource ID',
      ev('Microsoft.Resources.ResourceWriteSuccess', 'hello'),
      { kind: 'ignored' },
    ],
    ['missing eventType', { subject: lb }, { kind: 'invalid', reason: 'missing eventType' }],
    ['missing subject', ev('Microsoft.Resources.ResourceWriteSuccess', undefined), { kind: 'invalid' }],
    ['subject of the wrong type', ev('Microsoft.Resources.ResourceWriteSuccess', 42), { kind: 'invalid' }],
    [
      'data that is not an object',
      ev('Microsoft.Resources.ResourceWriteSuccess', lb, 'x'),
      { kind: 'invalid', reason: 'data is not an object' },
    ],
    [
      'a CloudEvent',
      {
        specversion: '1.0',
        type: 'Microsoft.Resources.ResourceWriteSuccess',
        source: '/subscriptions/x',
        subject: lb,
      },
      { kind: 'invalid', reason: expect.stringContaining('CloudEvents') },
    ],
    ['null', null, { kind: 'invalid' }],
    ['an array', [ev('Microsoft.Resources.ResourceWriteSuccess', lb)], { kind: 'invalid' }],
    [
      'a 10 kB subject',
      ev('Microsoft.Resources.ResourceWriteSuccess', `${lb}/${'x'.repeat(10_000)}`),
      { kind: 'invalid' },
    ],
  ])('%s', (_name, event, expected) => {
    expect(mapResourceEvent(event, clusters)).toMatchObject(expected);
  });
});

describe('parseResourceId', () => {
  it('parses nested resources and keeps names', () => {
    expect(parseResourceId(`${mc}/agentPools/np1`)).toEqual({
      subscriptionId: SUB.toLowerCase(),
      resourceGroup: 'RG-PROD',
      provider: 'microsoft.containerservice',
      types: ['managedclusters', 'agentpools'],
      names: ['AKS-PROD-1', 'np1'],
    });
  });

  it.each([
    '',
    '/subscriptions/x',
    '/subscriptions/x/resourceGroups/y/providers/P/t',
    '/foo/x/resourceGroups/y/providers/P/t/n',
  ])('rejects %s', (id) => {
    expect(parseResourceId(id)).toBeUndefined();
  });
});
