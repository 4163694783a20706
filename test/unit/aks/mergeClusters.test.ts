import { describe, expect, it } from 'vitest';
import { mergeClusters } from '../../../shared/aks/mergeClusters.js';
import { type ClusterConfig, clusterResourceId } from '../../../shared/config/loadConfig.js';
import { ConfigError } from '../../../shared/errors.js';

const SUB_A = 'aaaaaaaa-0000-0000-0000-000000000001';
const SUB_B = 'bbbbbbbb-0000-0000-0000-000000000002';

function cluster(name: string, sub: string, rg: string, extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name,
    subscriptionId: sub,
    resourceGroup: rg,
    resourceId: clusterResourceId(sub, rg, name),
    auth: { type: 'azureAd' },
    labelSelectors: [],
    deviceGroups: [],
    ...extra,
  };
}

describe('mergeClusters', () => {
  it('keeps the explicit entry for the same resource ID (any casing) and takes the node resource group', () => {
    const explicit = cluster('aks-1', SUB_A, 'RG', { deviceGroups: ['mine'] });
    const discovered = {
      ...cluster('aks-1', SUB_A, 'rg', { deviceGroups: ['tag'], nodeResourceGroup: 'MC_rg_aks-1' }),
      resourceId: clusterResourceId(SUB_A, 'rg', 'aks-1').toLowerCase(),
    };

    const merged = mergeClusters([explicit], [discovered, cluster('aks-2', SUB_A, 'rg')]);

    expect(merged).toEqual([
      { ...explicit, nodeResourceGroup: 'MC_rg_aks-1' },
      cluster('aks-2', SUB_A, 'rg'),
    ]);
  });

  it('keeps an explicit nodeResourceGroup', () => {
    const explicit = cluster('aks-1', SUB_A, 'rg', { nodeResourceGroup: 'custom' });
    const merged = mergeClusters(
      [explicit],
      [cluster('aks-1', SUB_A, 'rg', { nodeResourceGroup: 'MC_other' })],
    );
    expect(merged).toEqual([explicit]);
  });

  it('rejects two different clusters with one name, naming both resource IDs', () => {
    const a = cluster('aks-prod', SUB_A, 'rg-a');
    const b = cluster('AKS-PROD', SUB_B, 'rg-b');

    expect(() => mergeClusters([a], [b])).toThrow(ConfigError);
    expect(() => mergeClusters([], [a, b])).toThrow(
      `cluster name "AKS-PROD" is used by two clusters: ${a.resourceId} and ${b.resourceId}`,
    );
  });

  it('keeps the tag settings of the CLUSTERS entry for a discovered twin and gives other discovered clusters the defaults', () => {
    const explicit = cluster('aks-1', SUB_A, 'rg', {
      maxTagsPerIp: 8,
      labelTags: { exclude: ['helm.sh/*'] },
      namespaceTags: true,
    });
    const merged = mergeClusters([explicit], [cluster('aks-1', SUB_A, 'rg'), cluster('aks-2', SUB_A, 'rg')], {
      maxTagsPerIp: 16,
    });
    expect(merged).toEqual([explicit, { ...cluster('aks-2', SUB_A, 'rg'), maxTagsPerIp: 16 }]);
    expect(merged[1]).not.toHaveProperty('labelTags');
    expect(merged[1]).not.toHaveProperty('namespaceTags');
  });

  it('leaves the budget of discovered clusters to the engine default when no defaults are given', () => {
    expect(mergeClusters([], [cluster('aks-2', SUB_A, 'rg')])).toEqual([cluster('aks-2', SUB_A, 'rg')]);
  });
});
