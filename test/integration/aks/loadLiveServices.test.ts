import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/CliIo.js';
import { loadLiveServices } from '../../../cli/liveServices.js';
import { runCli } from '../../../cli/runCli.js';
import { ConfigError, InputError } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/logger.js';
import { startArmSimulator } from '../../../sim/arm/startArmSimulator.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { startKubernetesSimulator } from '../../../sim/kubernetes/startKubernetesSimulator.js';
import { fakeCredential, recordingDelay, SUB_A } from './aksTestKit.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function cliIo(values: Record<string, string>, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'live-services-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: values }));
  const err: string[] = [];
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: () => {},
    stderr: (t) => err.push(t),
    env,
    cwd: dir,
  };
  return { io, err };
}

async function k8sSim(token: string) {
  const sim = await startKubernetesSimulator({
    token,
    services: [
      makeService({ name: 'web', namespace: 'shop', labels: { app: 'web' }, ips: ['10.30.0.4'] }),
      makeService({ name: 'dns', namespace: 'kube-system', type: 'ClusterIP' }),
    ],
  });
  cleanups.push(() => sim.stop());
  return sim;
}

describe('loadLiveServices (tags --live)', () => {
  it('reads the configured token cluster from local.settings.json without any Panorama or storage setting', async () => {
    const k8s = await k8sSim('sa-token-live-0000000001');
    const { io } = cliIo({
      CLUSTERS: JSON.stringify([
        { name: 'other', server: 'https://127.0.0.1:1', auth: { type: 'token', token: 'never-used-123' } },
        {
          name: 'aks-live',
          server: k8s.url,
          caData: k8s.caData,
          auth: { type: 'token', tokenSetting: 'AKS_LIVE_TOKEN' },
        },
      ]),
      AKS_LIVE_TOKEN: 'sa-token-live-0000000001',
    });

    const services = await loadLiveServices('AKS-LIVE', io);

    expect(services.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).sort()).toEqual([
      'kube-system/dns',
      'shop/web',
    ]);
    expect(services.find((s) => s.metadata?.name === 'web')?.status?.loadBalancer?.ingress).toEqual([
      { ip: '10.30.0.4' },
    ]);
  });

  it('finds a discovered Entra ID cluster through ARM and reads it with its own credentials', async () => {
    const k8s = await k8sSim('aks-entra-token-live-000002');
    const arm = await startArmSimulator({
      token: 'arm-token-live-0000003',
      clusters: [
        {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-live',
          name: 'aks-found',
          tags: { Panorama: 'dg-live' },
          apiServer: { url: k8s.url, ...(k8s.caData ? { caData: k8s.caData } : {}) },
        },
      ],
    });
    cleanups.push(() => arm.stop());
    const { io } = cliIo(
      { DISCOVERY_SUBSCRIPTIONS: SUB_A, DISCOVERY_TAG: 'panorama' },
      { ARM_ENDPOINT: arm.url },
    );

    const services = await loadLiveServices('aks-found', io, {
      credential: fakeCredential({ arm: 'arm-token-live-0000003', aks: 'aks-entra-token-live-000002' }),
      armTlsCa: arm.caPem,
      logger: memoryLogger(),
      kubernetes: { delay: recordingDelay() },
    });

    expect(services.map((s) => s.metadata?.name).sort()).toEqual(['dns', 'web']);
    expect(arm.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  it('feeds `tags --live --cluster NAME` end to end', async () => {
    const k8s = await k8sSim('sa-token-live-0000000004');
    const { io } = cliIo({
      CLUSTERS: JSON.stringify([
        {
          name: 'aks-live',
          server: k8s.url,
          caData: k8s.caData,
          auth: { type: 'token', token: 'sa-token-live-0000000004' },
        },
      ]),
    });
    const out: string[] = [];

    const code = await runCli(['tags', '--live', '--cluster', 'aks-live'], {
      ...io,
      stdout: (t) => out.push(t),
    });

    expect(code).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({
      '10.30.0.4': ['aks.aks-live.svc.app.web', 'aks.aks-live.web'],
    });
  });

  it('lists the known cluster names when the requested one is unknown', async () => {
    const { io } = cliIo({
      CLUSTERS: JSON.stringify([
        { name: 'aks-b', server: 'https://127.0.0.1:1', auth: { type: 'token', token: 'tok-123456' } },
        { name: 'aks-a', server: 'https://127.0.0.1:1', auth: { type: 'token', token: 'tok-123456' } },
      ]),
    });

    const err = await loadLiveServices('aks-z', io).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      'Cluster "aks-z" is not configured in CLUSTERS; known clusters: aks-a, aks-b',
    );
  });

  it('reports bad cluster settings as a configuration error', async () => {
    const { io } = cliIo({
      CLUSTERS: '[{"name":"x","auth":{"type":"token","token":"t"}}]',
      DISCOVERY_TAG: 'panorama',
    });

    const err = await loadLiveServices('x', io).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'CLUSTERS[0] (x).server: required with auth type "token"',
      'DISCOVERY_SUBSCRIPTIONS/DISCOVERY_TAG: set both to discover clusters by Azure tag, or neither',
    ]);
  });
});
