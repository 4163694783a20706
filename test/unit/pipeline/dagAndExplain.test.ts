import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { parseDagExpression } from '../../../shared/dag/parseDagExpression.js';
import { InputError, PanoramaError } from '../../../shared/errors.js';
import { evaluateDag } from '../../../shared/pipeline/evaluateDag.js';
import { explainIp, UnknownIpError } from '../../../shared/pipeline/explainIp.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';
import { MemoryPanorama } from '../../helpers/memoryPanorama.js';

const selector = (name: string, source: string) => ({ name, source, selector: parseLabelSelector(source) });

const A: ClusterConfig = {
  name: 'aks-a',
  auth: { type: 'azureAd' },
  labelSelectors: [selector('web', 'app=web'), selector('front', 'app=web,tier in (front)')],
  deviceGroups: ['dg-1'],
  labelTags: { exclude: ['helm.sh/chart'] },
  maxTagsPerIp: 4,
};
const B: ClusterConfig = { name: 'aks-b', auth: { type: 'azureAd' }, labelSelectors: [], deviceGroups: [] };

const CHECKOUT = makeService({
  namespace: 'shop',
  name: 'checkout',
  ips: ['10.1.0.4'],
  labels: { app: 'web', 'helm.sh/chart': 'checkout-1.2', team: 'payments', zone: 'eu' },
});
const A_COMMITTED = ['aks.aks-a.checkout', 'aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'];

async function world() {
  const panorama = new MemoryPanorama({
    firewalls: [
      { serial: '0101', deviceGroup: 'dg-1', connected: true },
      { serial: '0103', deviceGroup: 'dg-1', connected: true },
    ],
  });
  const w = memoryDeps({ clusters: [A, B], services: [CHECKOUT], overrides: { panorama } });
  const head = {
    generation: 3,
    pendingGeneration: 3,
    ipCount: 1,
    tagCount: 3,
    retiringTargets: [],
    heldRemovals: 0,
    holdBasePairs: 0,
    ipsOverBudget: 0,
  };
  await w.clusterState.createHead({ cluster: 'aks-a', targets: ['0101', '0102'], ...head });
  await w.clusterState.createHead({ cluster: 'aks-b', targets: ['panorama'], ...head });
  await w.clusterState.seedCommitted('aks-a', new Map([['10.1.0.4', A_COMMITTED]]), 3);
  await w.clusterState.seedCommitted('aks-b', new Map([['10.2.0.4', ['aks.aks-b.grafana']]]), 3);
  panorama.seed([{ ip: '10.1.0.4', tags: ['aks.aks-a.checkout', 'aks.aks-a.old', 'people.web'] }], '0101');
  panorama.seed([{ ip: '10.9.0.1', tags: ['people.web'] }], '0101');
  return { ...w, panorama };
}

describe('evaluateDag', () => {
  it('selects from the last-known state of every configured cluster, naming the Services', async () => {
    const { deps } = await world();
    const report = await evaluateDag(
      parseDagExpression("'aks.aks-a.svc.app.web' AND 'aks_web.aks-a.checkout'"),
      deps,
    );
    expect(report).toEqual({
      expression: "'aks.aks-a.svc.app.web' and 'aks_web.aks-a.checkout'",
      source: { kind: 'state', clusters: ['aks-a', 'aks-b'] },
      members: [{ ip: '10.1.0.4', services: ['aks-a/checkout'], tags: A_COMMITTED }],
      warnings: [],
    });
    const both = await evaluateDag(parseDagExpression("'aks.aks-a.checkout' or 'aks.aks-b.grafana'"), deps);
    expect(both.members.map((m) => [m.ip, m.services])).toEqual([
      ['10.1.0.4', ['aks-a/checkout']],
      ['10.2.0.4', ['aks-b/grafana']],
    ]);
  });

  it('warns about tags no IP carries, and about tags the state can never hold', async () => {
    const { deps } = await world();
    const report = await evaluateDag(parseDagExpression("'aks.aks-a.chekout' or 'people.web'"), deps);
    expect(report.members).toEqual([]);
    expect(report.warnings).toEqual([
      'tag "aks.aks-a.chekout" is on no IP of the last-known state (a typo?)',
      expect.stringMatching(/^tag "people.web" is not a tag of a configured cluster.*--target SERIAL/),
    ]);
  });

  it('with a target, selects from its read-back, foreign tags included', async () => {
    const { deps, panorama } = await world();
    const report = await evaluateDag(parseDagExpression("'people.web'"), deps, { target: '0101' });
    expect(report.source).toEqual({ kind: 'target', target: '0101' });
    expect(report.members).toEqual([
      {
        ip: '10.1.0.4',
        services: ['aks-a/checkout', 'aks-a/old'],
        tags: ['aks.aks-a.checkout', 'aks.aks-a.old', 'people.web'],
      },
      { ip: '10.9.0.1', services: [], tags: ['people.web'] },
    ]);
    expect(report.warnings).toEqual([]);
    expect(panorama.calls.map((c) => [c.method, c.target])).toEqual([['listRegisteredIps', '0101']]);
  });

  it('reads Panorama itself for the target "panorama" and warns about a target no cluster uses', async () => {
    const { deps, panorama } = await world();
    panorama.seed([{ ip: '10.2.0.4', tags: ['aks.aks-b.grafana'] }]);
    const onPanorama = await evaluateDag(parseDagExpression("'aks.aks-b.grafana'"), deps, {
      target: 'panorama',
    });
    expect(onPanorama.members.map((m) => m.ip)).toEqual(['10.2.0.4']);
    expect(panorama.calls.at(-1)?.target).toBeUndefined();
    const nobody = await evaluateDag(parseDagExpression("'x'"), deps, { target: '0103' });
    expect(nobody.warnings).toContain('target "0103" is not a target of any cluster\'s last recompute');
    await expect(evaluateDag(parseDagExpression("'x'"), deps, { target: '0999' })).rejects.toThrow(
      /not a managed device/,
    );
    await expect(evaluateDag(parseDagExpression("'x'"), deps, { target: 'fw-1' })).rejects.toBeInstanceOf(
      InputError,
    );
  });
});

describe('explainIp', () => {
  it('explains Services, labels, selectors, the budget cut and what each target holds', async () => {
    const { deps, panorama } = await world();
    panorama.failNext(
      1,
      new PanoramaError('firewall 0102 is not connected', { kind: 'retryable' }),
      (c) => c.target === '0102',
    );
    const e = await explainIp('10.1.0.4', deps);
    expect(e.ip).toBe('10.1.0.4');
    expect(e.clusters).toHaveLength(1);
    const [a] = e.clusters;
    expect(a).toMatchObject({ cluster: 'aks-a', generation: 3, committed: A_COMMITTED, budget: 4 });
    expect(a?.wanted).toEqual([
      'aks.aks-a.checkout',
      'aks.aks-a.svc.app.web',
      'aks.aks-a.svc.team.payments',
      'aks_web.aks-a.checkout',
    ]);
    expect(a?.cut).toEqual(['aks.aks-a.svc.zone.eu']);
    expect(a?.issues).toEqual([expect.stringMatching(/^warning: IP 10.1.0.4 .* budget of 4/)]);
    expect(a?.services).toEqual([
      {
        service: 'shop/checkout',
        labels: [
          { key: 'app', value: 'web', tag: 'aks.aks-a.svc.app.web', status: 'tagged' },
          { key: 'helm.sh/chart', value: 'checkout-1.2', status: 'filtered' },
          { key: 'team', value: 'payments', tag: 'aks.aks-a.svc.team.payments', status: 'tagged' },
          { key: 'zone', value: 'eu', tag: 'aks.aks-a.svc.zone.eu', status: 'cut' },
        ],
        selectors: [
          {
            name: 'web',
            selector: 'app=web',
            matched: true,
            tag: 'aks_web.aks-a.checkout',
            cut: false,
            failing: [],
          },
          {
            name: 'front',
            selector: 'app=web,tier in (front)',
            matched: false,
            failing: ['tier in (front)'],
          },
        ],
      },
    ]);
    expect(a?.targets).toEqual([
      {
        target: '0101',
        held: ['aks.aks-a.checkout', 'aks.aks-a.old', 'people.web'],
        missing: ['aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'],
        stale: ['aks.aks-a.old'],
      },
      { target: '0102', error: expect.stringMatching(/not connected/) },
    ]);
  });

  it('canonicalises the IP, refuses a non-IP, and says which clusters it searched for an unknown IP', async () => {
    const { deps } = await world();
    await expect(explainIp('10.1.0.04', deps)).rejects.toBeInstanceOf(InputError);
    await expect(explainIp('::ffff:10.1.0.4', deps)).resolves.toMatchObject({ ip: '10.1.0.4' });
    const unknown = explainIp('10.9.9.9', deps);
    await expect(unknown).rejects.toBeInstanceOf(UnknownIpError);
    await expect(unknown).rejects.toThrow(
      'IP 10.9.9.9 is in the last-known state of no configured cluster (aks-a, aks-b)',
    );
  });

  it('still explains the committed state when the Services cannot be listed', async () => {
    const { deps } = await world();
    const broken = { ...deps, services: { listServices: () => Promise.reject(new Error('API down')) } };
    const [b] = (await explainIp('10.2.0.4', broken)).clusters;
    expect(b).toMatchObject({
      cluster: 'aks-b',
      committed: ['aks.aks-b.grafana'],
      services: [],
      liveError: 'API down',
    });
    expect(b?.wanted).toBeUndefined();
  });
});
