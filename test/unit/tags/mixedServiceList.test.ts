import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { computeIpTags } from '../../../shared/tags/computeIpTags.js';
import { ipTagMapToJson } from '../../../shared/tags/IpTagMap.js';

const list = JSON.parse(
  readFileSync(new URL('../../fixtures/services/mixed-servicelist.json', import.meta.url), 'utf8'),
) as { kind: string; items: KubeService[] };

const selectors = [
  { name: 'web', source: 'app=web' },
  { name: 'front', source: 'tier in (front)' },
  { name: 'stable', source: 'track notin (canary)' },
].map((s) => ({ ...s, selector: parseLabelSelector(s.source) }));

describe('the mixed kubectl ServiceList fixture', () => {
  it('is a kubectl List of Services', () => {
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(11);
  });

  it('tags exactly the internal load balancers with an IP: "true"/"True"/"TRUE", dual-stack and a shared IP', () => {
    const { tags, issues } = computeIpTags(list.items, { cluster: 'aks-prod-1', selectors });
    expect(issues).toEqual([]);
    expect(ipTagMapToJson(tags)).toEqual({
      '10.240.0.10': [
        'aks.aks-prod-1.checkout',
        'aks.aks-prod-1.svc.app.checkout',
        'aks.aks-prod-1.svc.tier.front',
        'aks_front.aks-prod-1.checkout',
        'aks_stable.aks-prod-1.checkout',
      ],
      '10.240.0.11': [
        'aks.aks-prod-1.ledger',
        'aks.aks-prod-1.svc.app.ledger',
        'aks.aks-prod-1.svc.team.payments',
        'aks.aks-prod-1.svc.tier.back',
        'aks_stable.aks-prod-1.ledger',
      ],
      '10.240.0.12': [
        'aks.aks-prod-1.svc.app.kubernetes.io/name.web',
        'aks.aks-prod-1.svc.app.web',
        'aks.aks-prod-1.svc.tier.front',
        'aks.aks-prod-1.web-dual',
        'aks_front.aks-prod-1.web-dual',
        'aks_stable.aks-prod-1.web-dual',
        'aks_web.aks-prod-1.web-dual',
      ],
      '10.240.0.20': [
        'aks.aks-prod-1.api-http',
        'aks.aks-prod-1.api-https',
        'aks.aks-prod-1.svc.app.api',
        'aks.aks-prod-1.svc.port.http',
        'aks.aks-prod-1.svc.port.https',
        'aks_stable.aks-prod-1.api-http',
        'aks_stable.aks-prod-1.api-https',
      ],
      'fd00:10:240::c': [
        'aks.aks-prod-1.svc.app.kubernetes.io/name.web',
        'aks.aks-prod-1.svc.app.web',
        'aks.aks-prod-1.svc.tier.front',
        'aks.aks-prod-1.web-dual',
        'aks_front.aks-prod-1.web-dual',
        'aks_stable.aks-prod-1.web-dual',
        'aks_web.aks-prod-1.web-dual',
      ],
    });
  });
});
