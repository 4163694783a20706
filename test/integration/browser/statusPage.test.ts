import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as HostModule from '../../../host/startLocalHost.js';
import type * as ConfigModule from '../../../shared/config/loadConfig.js';
import type * as LoggerModule from '../../../shared/logger.js';
import { DELTA_QUEUE, poisonQueueName } from '../../../shared/queues/queueNames.js';
import type * as RuntimeModule from '../../../shared/runtime/createRuntime.js';
import {
  expectNoSecrets,
  pollUntil,
  ROOT,
  requireBuild,
  worldSecrets,
  worldSettings,
} from '../../helpers/cliKit.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/**
 * The status page in a real headless Chromium (Debian's `chromium` through `playwright-core`),
 * served by the local host running the compiled functions (`dist/`) against Azurite and the
 * simulators: one firewall synced, one whose pushes fail until its delta is poisoned.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'test-results', 'status-page.png');
const CLUSTER = 'aks-page';
const FW1 = '007051000000201';
const FW2 = '007051000000202';
const HOSTILE = '<script>';
const CLUSTERS: WorldCluster[] = [
  {
    name: CLUSTER,
    deviceGroups: ['dg-page'],
    services: [
      internalService('shop', 'checkout', ['10.4.0.4'], { app: 'web', tier: 'front' }),
      internalService('shop', 'cart', ['10.4.0.5'], { app: 'web', tier: 'back' }),
      internalService('data', 'db', ['10.4.0.6'], { app: 'db', note: HOSTILE }),
    ],
  },
];

const dist = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;

/** The text `locator` shows on screen (rendered, as a reader sees it: what this test is about). */
function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point here
  return locator.innerText();
}

/** Launches Chromium, or fails saying how to get it (never skips). */
async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it (Debian: "apt-get install -y chromium"; .ci/run does) or set CHROMIUM_PATH`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

describe('the status page in headless Chromium (local host, dist/functions, Azurite, simulators)', {
  timeout: 180_000,
}, () => {
  let world: PipelineWorld;
  let host: HostModule.LocalHost;
  let runtime: typeof RuntimeModule;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  const envBefore = { ...process.env };
  const statusUrl = () => `${host.url}/api/status?code=${encodeURIComponent(host.functionKey)}`;

  beforeAll(async () => {
    requireBuild();
    browser = await launchChromium();
    world = await startPipelineWorld({
      clusters: CLUSTERS,
      deviceGroups: {
        'dg-page': [
          { serial: FW1, hostname: 'fw-frankfurt-1' },
          { serial: FW2, hostname: 'fw-amsterdam-2' },
        ],
      },
    });
    const { startLocalHost } = await dist<typeof HostModule>('host/startLocalHost.js');
    const logger = await dist<typeof LoggerModule>('shared/logger.js');
    runtime = await dist<typeof RuntimeModule>('shared/runtime/createRuntime.js');
    const config = await dist<typeof ConfigModule>('shared/config/loadConfig.js');
    runtime.setRuntime(undefined);
    host = await startLocalHost({
      functionsDir: join(ROOT, 'dist', 'functions'),
      hostJsonPath: join(ROOT, 'host.json'),
      settings: { ...worldSettings(world, CLUSTERS), RECONCILE_SCHEDULE: '0 0 0 1 1 *' },
      port: 0,
      logger: logger.memoryLogger('info'),
      exportSettingsToEnv: true,
      hostSettings: { queues: { visibilityTimeoutMs: 0, maxDequeueCount: 1 } },
      beforeStart: ({ settings, nudge }) =>
        runtime.setRuntime(runtime.createRuntime(config.loadConfig(settings), {}, { onEnqueue: nudge })),
    });
    world.panorama.failNext('http-503', { type: 'user-id', target: FW2, count: 100_000 });
    await host.runTimer('reconcileTimer');
    await pollUntil('checkout tags on FW1', () => registeredObject(world.panorama, FW1)['10.4.0.4']);
    await pollUntil(
      "FW2's delta poisoned",
      async () => (await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))) >= 1,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    runtime?.setRuntime(undefined);
    await world?.stop();
    for (const k of Object.keys(process.env)) if (!(k in envBefore)) delete process.env[k];
    Object.assign(process.env, envBefore);
  });

  it('opens as HTML with its security headers, showing the cluster, the firewalls and what needs attention', async () => {
    const response = await page.goto(statusUrl());
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['cache-control']).toBe('no-store');
    const cluster = page.locator(`[data-cluster="${CLUSTER}"]`);
    await expect.poll(() => shownText(cluster.locator('h3'))).toContain(CLUSTER);
    const targets = await shownText(cluster.locator('table.targets'));
    expect(targets).toContain('fw-frankfurt-1');
    expect(targets).toContain(FW1);
    expect(targets).toContain('fw-amsterdam-2');
    expect(targets).toContain('dg-page');
    const attention = await shownText(page.locator('#attention'));
    expect(attention).toMatch(/poisoned messages in tag-deltas-poison/);
    expect(attention).toContain(FW2);
    expectNoSecrets({ 'status page': await page.content() }, [...worldSecrets(world), host.functionKey]);
  });

  it('the DAG tester posts back to the same URL (key kept, never echoed) and shows the matching IPs', async () => {
    await page.locator('#dag-input').fill("'aks.aks-page.svc.app.web'");
    await Promise.all([page.waitForURL(statusUrl()), page.getByRole('button', { name: 'Evaluate' }).click()]);
    const result = await shownText(page.locator('#dag-result'));
    expect(result).toContain('2 IPs match');
    expect(result).toContain('10.4.0.4');
    expect(result).toContain('10.4.0.5');
    expect(result).not.toContain('10.4.0.6');
    expect(result).toContain('aks-page/checkout');
    expect(page.url()).toBe(statusUrl());
    expect(await page.content()).not.toContain(host.functionKey);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`status page screenshot: ${SCREENSHOT}`);
  });

  it('shows a hostile tag as text (no element is created) and a bad match with its position', async () => {
    await page.locator('#dag-input').fill(`'aks.aks-page.svc.note.${HOSTILE}'`);
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Evaluate' }).click(),
    ]);
    await expect.poll(() => shownText(page.locator('#dag-result'))).toContain('10.4.0.6');
    expect(await shownText(page.locator('#dag-result'))).toContain(`aks.aks-page.svc.note.${HOSTILE}`);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('#dag-input').inputValue()).toBe(`'aks.aks-page.svc.note.${HOSTILE}'`);

    await page.locator('#dag-input').fill("'aks.aks-page.db' and");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Evaluate' }).click(),
    ]);
    expect(response.status()).toBe(400);
    await expect
      .poll(() => shownText(page.locator('#dag-result')))
      .toMatch(/Not a valid match: invalid DAG match at position 22/);
    expect(cspViolations).toEqual([]);
  });

  it('API clients still get the JSON report, and a POST asking for JSON gets the DAG report', async () => {
    const json = await fetch(statusUrl());
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(
      ((await json.json()) as { clusters: { cluster: string }[] }).clusters.map((c) => c.cluster),
    ).toEqual([CLUSTER]);
    const dag = await fetch(statusUrl(), {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ dag: "'aks.aks-page.svc.tier.front'" }),
    });
    expect(dag.status).toBe(200);
    expect(await dag.json()).toMatchObject({
      members: [{ ip: '10.4.0.4', services: ['aks-page/checkout'] }],
    });
  });
});
