import { describe, expect, it } from 'vitest';
import {
  clusterFromManagedCluster,
  deviceGroupsFromTag,
  findTagValue,
} from '../../../shared/aks/clusterFromManagedCluster.js';
import { parseClusterResourceId, sameResourceId } from '../../../shared/aks/parseClusterResourceId.js';

const SUB = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const id = (rg: string, name: string) =>
  `/subscriptions/${SUB}/resourcegroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;

describe('parseClusterResourceId / sameResourceId', () => {
  it('splits managed cluster IDs in any casing and rejects other resources', () => {
    expect(
      parseClusterResourceId(
        `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourceGroups/Rg-1/providers/microsoft.containerservice/MANAGEDCLUSTERS/aks-1/`,
      ),
    ).toEqual({
      subscriptionId: SUB,
      resourceGroup: 'Rg-1',
      name: 'aks-1',
    });
    expect(
      parseClusterResourceId(
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/kubernetes-internal`,
      ),
    ).toBeUndefined();
    expect(parseClusterResourceId(`${id('rg', 'aks')}/agentPools/np1`)).toBeUndefined();
  });

  it('compares resource IDs case-insensitively and never matches undefined', () => {
    expect(sameResourceId(id('RG', 'AKS'), id('rg', 'aks').replace('resourcegroups', 'resourceGroups'))).toBe(
      true,
    );
    expect(sameResourceId(id('rg', 'aks-1'), id('rg', 'aks-2'))).toBe(false);
    expect(sameResourceId(undefined, undefined)).toBe(false);
  });
});

describe('discovery tag', () => {
  it('finds the tag whatever the casing of its name', () => {
    expect(findTagValue({ Panorama: 'dg' }, 'panorama')).toBe('dg');
    expect(findTagValue({ panoramaX: 'dg' }, 'panorama')).toBeUndefined();
    expect(findTagValue(undefined, 'panorama')).toBeUndefined();
  });

  it('splits comma-separated device groups, trimming and de-duplicating', () => {
    expect(deviceGroupsFromTag(' dg-1, dg-2 ,,dg-1 ')).toEqual({
      deviceGroups: ['dg-1', 'dg-2'],
      problems: [],
    });
    expect(deviceGroupsFromTag('')).toEqual({ deviceGroups: [], problems: [] });
    expect(deviceGroupsFromTag('ok,"quoted"').problems).toEqual([
      'device group ""quoted"" is not a valid Panorama device group name',
    ]);
    expect(deviceGroupsFromTag('x'.repeat(64)).problems).toHaveLength(1);
  });

  it('turns a tagged managed cluster into an azureAd cluster with its IDs recorded', () => {
    const outcome = clusterFromManagedCluster(
      {
        id: id('rg-spoke', 'aks-1'),
        name: 'aks-1',
        tags: { PANORAMA: 'dg-spoke' },
        nodeResourceGroup: 'MC_x',
      },
      SUB,
      'panorama',
    );
    expect(outcome).toEqual({
      kind: 'cluster',
      cluster: {
        name: 'aks-1',
        subscriptionId: SUB,
        resourceGroup: 'rg-spoke',
        nodeResourceGroup: 'MC_x',
        resourceId: id('rg-spoke', 'aks-1'),
        auth: { type: 'azureAd' },
        labelSelectors: [],
        deviceGroups: ['dg-spoke'],
      },
    });
  });

  it('ignores untagged clusters and reports unusable ones', () => {
    expect(
      clusterFromManagedCluster({ id: id('rg', 'aks'), name: 'aks', tags: { env: 'x' } }, SUB, 'panorama'),
    ).toEqual({
      kind: 'untagged',
    });
    expect(
      clusterFromManagedCluster({ id: 'garbage', name: 'aks', tags: { panorama: '' } }, SUB, 'panorama').kind,
    ).toBe('invalid');
    const bad = clusterFromManagedCluster(
      { id: id('rg', 'aks'), name: 'aks', tags: { panorama: 'a\u0007b' } },
      SUB,
      'panorama',
    );
    expect(bad.kind).toBe('invalid');
  });
});
