import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { AppConfig, ClusterConfig } from '../../../shared/config/loadConfig.js';
import { ConfigError } from '../../../shared/errors.js';
import { readStatus } from '../../../shared/pipeline/readStatus.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import type { Runtime } from '../../../shared/runtime/createRuntime.js';
import { answerStatusRequest } from '../../../shared/statusPage/answerStatusRequest.js';
import { STATUS_PAGE_CSP } from '../../../shared/statusPage/pageLayout.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const FORM = 'application/x-www-form-urlencoded';
const A: ClusterConfig = {
  name: 'aks-a',
  auth: { type: 'azureAd' },
  labelSelectors: [],
  deviceGroups: ['dg-1'],
};

async function world() {
  const w = memoryDeps({
    clusters: [A],
    services: [
      makeService({ namespace: 'shop', name: 'web', ips: ['10.1.0.4'], labels: { app: 'web' } }),
      makeService({ namespace: 'shop', name: 'db', ips: ['10.1.0.5'] }),
    ],
    firewalls: [{ serial: '0101', deviceGroup: 'dg-1', connected: true, hostname: 'fw-1' }],
  });
  const outcome = await recomputeCluster(
    { v: 1, cluster: 'aks-a', reason: 'test', requestedAt: '2025-03-01T10:00:00.000Z' },
    w.deps,
  );
  expect(outcome.status).toBe('changed');
  await w.targetStatus.recordPush({
    cluster: 'aks-a',
    target: '0101',
    hostname: 'fw-1',
    deviceGroup: 'dg-1',
  });
  const runtime = { config: {} as AppConfig, deps: w.deps } satisfies Runtime;
  return { ...w, runtime };
}

function request(init: {
  method?: string;
  accept?: string;
  contentType?: string;
  body?: string;
}): HttpRequest {
  const headers: Record<string, string> = {};
  if (init.accept) headers.accept = init.accept;
  if (init.contentType) headers['content-type'] = init.contentType;
  return new HttpRequest({
    method: init.method ?? 'GET',
    url: 'http://localhost/api/status?code=the-function-key',
    headers,
    ...(init.body === undefined ? {} : { body: { string: init.body } }),
  });
}

async function answer(init: Parameters<typeof request>[0], getRuntime: () => Runtime) {
  const logged: string[] = [];
  const res: HttpResponseInit = await answerStatusRequest(request(init), {
    getRuntime,
    logError: (m) => logged.push(m),
  });
  const headers = new Headers(res.headers as Record<string, string>);
  return { res, headers, body: typeof res.body === 'string' ? res.body : '', logged };
}

describe('answerStatusRequest', () => {
  it.each([
    ['no Accept', undefined],
    ['curl', '*/*'],
    ['an API client', 'application/json'],
  ])('GET with %s: the JSON report exactly as readStatus builds it', async (_name, accept) => {
    const { runtime, deps } = await world();
    const { res } = await answer({ ...(accept ? { accept } : {}) }, () => runtime);
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined();
    expect(res.jsonBody).toEqual((await readStatus(deps)).report);
  });

  it('GET from a browser: the page, with its security headers, never echoing the key', async () => {
    const { runtime } = await world();
    const { res, headers, body } = await answer({ accept: BROWSER }, () => runtime);
    expect(res.status).toBe(200);
    expect(headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toContain('data-cluster="aks-a"');
    expect(body).toContain('<td class="nowrap">fw-1</td><td class="nowrap"><code>0101</code></td>');
    expect(body).not.toContain('the-function-key');
  });

  it('POST of the DAG form from a browser: the page with the matching IPs', async () => {
    const { runtime } = await world();
    const form = new URLSearchParams({ dag: "'aks.aks-a.svc.app.web'" }).toString();
    const { res, body } = await answer(
      { method: 'POST', accept: BROWSER, contentType: FORM, body: form },
      () => runtime,
    );
    expect(res.status).toBe(200);
    expect(body).toContain('<strong>1 IP matches</strong>');
    expect(body).toContain('<code class="ip">10.1.0.4</code>');
    expect(body).not.toContain('10.1.0.5');
    expect(body).toContain('data-cluster="aks-a"');
  });

  it('POST asking for JSON: the DAG report, or 400 with the position of the problem', async () => {
    const { runtime } = await world();
    const ok = await answer(
      { method: 'POST', accept: 'application/json', contentType: FORM, body: "dag='aks.aks-a.db'" },
      () => runtime,
    );
    expect(ok.res.status).toBe(200);
    expect(ok.res.jsonBody).toMatchObject({ expression: "'aks.aks-a.db'", members: [{ ip: '10.1.0.5' }] });
    const bad = await answer({ method: 'POST', contentType: FORM, body: "dag='a' and" }, () => runtime);
    expect(bad.res.status).toBe(400);
    expect(bad.res.jsonBody).toEqual({
      error: expect.stringMatching(/^invalid DAG match at position 8: /),
      position: 8,
    });
  });

  it('a bad match from a browser: 400 and the page saying where', async () => {
    const { runtime } = await world();
    const { res, body } = await answer(
      { method: 'POST', accept: BROWSER, contentType: FORM, body: 'dag=aks.aks-a.db' },
      () => runtime,
    );
    expect(res.status).toBe(400);
    expect(body).toContain('Not a valid match:');
    expect(body).toMatch(/position 1/);
  });

  it('a POST that is not a form: 415 naming what to send', async () => {
    const { runtime } = await world();
    const { res } = await answer(
      { method: 'POST', contentType: 'application/json', body: '{"dag":"x"}' },
      () => runtime,
    );
    expect(res.status).toBe(415);
    expect(res.jsonBody).toEqual({ error: expect.stringMatching(/application\/x-www-form-urlencoded/) });
  });

  it('an invalid configuration: 500 with the problems (JSON and page), logged, never a bare failure', async () => {
    const problems = ['PANORAMA_API_KEY: is an unresolved Key Vault reference', 'CLUSTERS: missing'];
    const invalid = () => {
      throw new ConfigError(problems);
    };
    const asJson = await answer({}, invalid);
    expect(asJson.res.status).toBe(500);
    expect(asJson.res.jsonBody).toEqual({ error: 'Invalid configuration', problems });
    expect(asJson.logged).toEqual([
      expect.stringContaining('PANORAMA_API_KEY: is an unresolved Key Vault reference'),
    ]);
    const asPage = await answer({ accept: BROWSER }, invalid);
    expect(asPage.res.status).toBe(500);
    expect(asPage.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(asPage.body).toContain('<li>CLUSTERS: missing</li>');
  });

  it('any other failure to build the runtime is thrown (the host answers 500 and logs it)', async () => {
    await expect(
      answer({}, () => {
        throw new Error('storage account unreachable');
      }),
    ).rejects.toThrow('storage account unreachable');
  });
});
