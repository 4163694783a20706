import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_SETTINGS_FILE, type DemoSettingsFile, type Settings } from '../shared/config/localSettings.js';
import type { KubeService } from '../shared/kubernetes/KubeService.js';
import {
  type ArmResourceEvent,
  armResourceEvent,
  loadBalancerResourceId,
} from '../sim/eventGrid/armResourceEvent.js';
import { makeService } from '../sim/kubernetes/makeService.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../sim/kubernetes/startKubernetesSimulator.js';
import { type PanoramaSimulator, startPanoramaSimulator } from '../sim/panorama/startPanoramaSimulator.js';

/** The demo's fixed names. */
export const DEMO = {
  cluster: 'aks-demo',
  subscriptionId: '00000000-0000-0000-0000-00000000de30',
  resourceGroup: 'rg-aks-demo',
  nodeResourceGroup: 'MC_rg-aks-demo_aks-demo_westeurope',
  deviceGroup: 'dg-spoke-demo',
  firewalls: ['007051000123456', '007051000654321'],
} as const;

/** The hostname of a demo firewall, e.g. `vmseries-456` for serial `007051000123456`. */
export function demoHostname(serial: string): string {
  return `vmseries-${serial.slice(-3)}`;
}

/** The load balancer write event the demo (and the user) posts to the Event Grid webhook. */
export function demoLoadBalancerEvent(): ArmResourceEvent {
  return armResourceEvent(loadBalancerResourceId(DEMO.subscriptionId, DEMO.nodeResourceGroup), 'write', {
    id: `demo-${Date.now()}`,
  });
}

/** The sample cluster's Services: three internal LBs (one shared IP), a public LB, a ClusterIP. */
export function demoServices(): KubeService[] {
  return [
    makeService({
      namespace: 'shop',
      name: 'checkout',
      ips: ['10.240.0.10'],
      labels: { app: 'web', tier: 'front' },
    }),
    makeService({
      namespace: 'shop',
      name: 'cart',
      ips: ['10.240.0.11'],
      labels: { app: 'web', tier: 'back' },
    }),
    makeService({
      namespace: 'payments',
      name: 'gateway',
      ips: ['10.240.0.12'],
      labels: { app: 'payments' },
    }),
    makeService({
      namespace: 'payments',
      name: 'gateway-admin',
      ips: ['10.240.0.12'],
      labels: { app: 'payments', role: 'admin' },
    }),
    makeService({
      namespace: 'public',
      name: 'frontdoor',
      ips: ['20.50.1.2'],
      labels: { app: 'web' },
      internal: false,
    }),
    makeService({
      namespace: 'kube-system',
      name: 'kube-dns',
      type: 'ClusterIP',
      labels: { 'k8s-app': 'kube-dns' },
    }),
  ];
}

/** The running demo backends. */
export interface Demo {
  panorama: PanoramaSimulator;
  kube: KubernetesSimulator;
  /** App settings pointing the service at the simulators. */
  settings: Settings;
  stop(): Promise<void>;
}

/**
 * Starts the embedded demo's backends: a Panorama simulator with one device group of two firewalls,
 * and a Kubernetes API simulator with a sample cluster. Returns the settings that wire the real
 * pipeline to them (nothing else differs from a real deployment).
 */
export async function startDemoBackends(): Promise<Demo> {
  const panorama = await startPanoramaSimulator({
    deviceGroups: {
      [DEMO.deviceGroup]: DEMO.firewalls.map((serial) => ({
        serial,
        hostname: demoHostname(serial),
      })),
    },
    duplicateMode: 'silent',
  });
  panorama.seedTags([{ ip: '10.240.0.10', tags: ['owner.netsec-team'] }], DEMO.firewalls[0]);
  const kube = await startKubernetesSimulator({ services: demoServices() });
  const cluster = {
    name: DEMO.cluster,
    subscriptionId: DEMO.subscriptionId,
    resourceGroup: DEMO.resourceGroup,
    nodeResourceGroup: DEMO.nodeResourceGroup,
    server: kube.url,
    caData: kube.caData,
    auth: { type: 'token', token: kube.token },
    labelSelectors: [{ name: 'web', selector: 'app=web,tier in (front)' }],
    deviceGroups: [DEMO.deviceGroup],
  };
  return {
    panorama,
    kube,
    settings: {
      PANORAMA_URL: panorama.url,
      PANORAMA_API_KEY: panorama.apiKey,
      CLUSTERS: JSON.stringify([cluster]),
      RECONCILE_SCHEDULE: '*/30 * * * * *',
      AUDIT_INTERVAL_MINUTES: '1',
    },
    async stop() {
      await kube.stop();
      await panorama.stop();
    },
  };
}

/** Renders what each simulated firewall holds, for the demo's commentary. */
export function describeFirewalls(panorama: PanoramaSimulator): string {
  const lines: string[] = [];
  for (const serial of DEMO.firewalls) {
    const map = panorama.registered(serial);
    lines.push(`  firewall ${serial}: ${map.size} IPs`);
    for (const ip of [...map.keys()].sort())
      lines.push(`    ${ip.padEnd(14)} ${(map.get(ip) ?? []).join(', ')}`);
  }
  return lines.join('\n');
}

/**
 * Writes the running demo's {@link DEMO_SETTINGS_FILE} in `dir` (mode 0600): what the CLI needs to
 * reach it (see `cliSettings` in `shared/config/localSettings.ts`). Returns its remover, which
 * deletes the file only while it is still this process's.
 */
export function writeDemoSettingsFile(dir: string, content: Omit<DemoSettingsFile, 'pid'>): () => void {
  const file = join(dir, DEMO_SETTINGS_FILE);
  const body: DemoSettingsFile & { about: string } = {
    about:
      'Written by "aks-panorama-sync dev" for the running demo; removed when it stops. Demo-only credentials of local simulators.',
    pid: process.pid,
    ...content,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return () => {
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
      if (current.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // Already gone or replaced by something else: leave it.
    }
  };
}
