import { afterEach, describe, expect, it } from 'vitest';
import {
  INVALID_CREDENTIAL_BODY,
  MAINTENANCE_PAGE_BODY,
  type PanoramaSimulator,
  type PanoramaSimulatorOptions,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';

const FW = '007951000000001';
const FW_DOWN = '007951000000002';

let sim: PanoramaSimulator | undefined;

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: PanoramaSimulatorOptions = {}): Promise<PanoramaSimulator> {
  sim = await startPanoramaSimulator({
    deviceGroups: { 'dg-1': [{ serial: FW }, { serial: FW_DOWN, connected: false }] },
    ...options,
  });
  return sim;
}

/** A raw API call, as any PAN-OS client would send it. */
async function api(
  s: PanoramaSimulator,
  form: Record<string, string>,
  key: string | null = s.apiKey,
): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(`${s.url}/api/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(key ? { 'X-PAN-KEY': key } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

/** Waits until `condition` holds (polling), failing after `ms`. */
async function until(what: string, condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const uid = (section: string, entries: string) =>
  `<uid-message><type>update</type><payload><${section}>${entries}</${section}></payload></uid-message>`;

describe('Panorama simulator wire behaviour', () => {
  it('answers keygen with the key, and bad credentials with HTTP 403 and the exact device body', async () => {
    const s = await start({ username: 'admin', password: 'pw-1234' });
    const ok = await api(s, { type: 'keygen', user: 'admin', password: 'pw-1234' }, null);
    expect(ok.body).toBe(`<response status="success"><result><key>${s.apiKey}</key></result></response>`);
    const bad = await api(s, { type: 'keygen', user: 'admin', password: 'nope' }, null);
    expect(bad).toEqual({
      status: 403,
      body: INVALID_CREDENTIAL_BODY,
      contentType: 'application/xml; charset=UTF-8',
    });
    expect(Buffer.byteLength(bad.body)).toBe(97);
  });

  it('refuses a missing or wrong key with the same 403, and accepts key= like the device', async () => {
    const s = await start();
    const cmd = '<show><devicegroups/></show>';
    expect(await api(s, { type: 'op', cmd }, null)).toMatchObject({
      status: 403,
      body: INVALID_CREDENTIAL_BODY,
    });
    expect(await api(s, { type: 'op', cmd }, 'wrong')).toMatchObject({
      status: 403,
      body: INVALID_CREDENTIAL_BODY,
    });
    expect((await api(s, { type: 'op', cmd, key: s.apiKey }, null)).status).toBe(200);
    expect(s.calls.map((c) => c.keyVia)).toEqual(['none', 'header', 'body']);
  });

  it('in error mode answers a duplicate register in the PAN-OS 6.0 shape; in silent mode with success', async () => {
    const s = await start();
    const cmd = uid('register', '<entry ip="192.168.1.2"><tag><member>your-tag</member></tag></entry>');
    const first = await api(s, { type: 'user-id', cmd });
    expect(first.body).toBe(
      '<response status="success"><result><uid-response><version>2.0</version><payload><register></register></payload></uid-response></result></response>',
    );
    const dup = await api(s, { type: 'user-id', cmd });
    expect(dup.status).toBe(200);
    expect(dup.body).toBe(
      '<response status="error"><msg><line><uid-response><version>2.0</version><payload><register><entry ip="192.168.1.2" message="tag your-tag already exists, ignore"></entry></register></payload></uid-response></line></msg></response>',
    );
    s.setDuplicateMode('silent');
    expect((await api(s, { type: 'user-id', cmd })).body).toContain('status="success"');
  });

  it('answers an unregister of something absent with "does not exist, ignore unreg" per IP or tag', async () => {
    const s = await start();
    s.seedTags(new Map([['10.0.0.1', ['keep']]]));
    const res = await api(s, {
      type: 'user-id',
      cmd: uid(
        'unregister',
        '<entry ip="10.0.0.9"><tag><member>t</member></tag></entry><entry ip="10.0.0.1"><tag><member>gone</member></tag></entry>',
      ),
    });
    expect(res.body).toContain('<entry ip="10.0.0.9" message="ip 10.0.0.9 does not exist, ignore unreg">');
    expect(res.body).toContain('<entry ip="10.0.0.1" message="tag gone does not exist, ignore unreg">');
    expect(s.registered()).toEqual(new Map([['10.0.0.1', ['keep']]]));
  });

  it('routes target to a firewall table; a disconnected firewall answers status="error" "not connected"', async () => {
    const s = await start();
    const cmd = uid('register', '<entry ip="10.0.0.1"><tag><member>t</member></tag></entry>');
    await api(s, { type: 'user-id', cmd, target: FW });
    expect(s.registered(FW)).toEqual(new Map([['10.0.0.1', ['t']]]));
    expect(s.registered()).toEqual(new Map());
    const down = await api(s, { type: 'user-id', cmd, target: FW_DOWN });
    expect(down).toMatchObject({
      status: 200,
      body: `<response status="error"><msg><line>Device ${FW_DOWN} is not connected</line></msg></response>`,
    });
    expect(s.registered(FW_DOWN)).toEqual(new Map());
  });

  it('pages registered-ip with limit/start-point, caps pages at 500, and filters by tag', async () => {
    const s = await start();
    s.seedTags(
      Array.from({ length: 700 }, (_, i) => ({
        ip: `10.0.${i >> 8}.${i & 255}`,
        tags: [i % 2 ? 'odd' : 'even'],
      })),
    );
    const page = async (inner: string) => {
      const res = await api(s, {
        type: 'op',
        cmd: `<show><object><registered-ip>${inner}</registered-ip></object></show>`,
      });
      return (res.body.match(/<entry /g) ?? []).length;
    };
    expect(await page('<limit>500</limit><start-point>1</start-point><all/>')).toBe(500);
    expect(await page('<limit>500</limit><start-point>501</start-point><all/>')).toBe(200);
    expect(await page('<limit>900</limit><all/>')).toBe(500);
    expect(await page('<tag><entry name="odd"/></tag>')).toBe(350);
    expect(await page('<ip>10.0.0.7</ip>')).toBe(1);
    s.setLegacyOutfile(true);
    const legacy = await api(s, {
      type: 'op',
      cmd: '<show><object><registered-ip><all/></registered-ip></object></show>',
    });
    expect(legacy.body).toContain('<outfile>');
  });

  it('answers an unknown command with code 17 and a malformed uid-message with code 18', async () => {
    const s = await start();
    expect((await api(s, { type: 'op', cmd: '<show><nonsense/></show>' })).body).toContain('code="17"');
    expect((await api(s, { type: 'user-id', cmd: '<not-a-uid-message/>' })).body).toContain('code="18"');
    expect(await api(s, { type: 'bogus' })).toMatchObject({ status: 400 });
  });

  it('rejects a request over the size limit with HTTP 413 and applies nothing', async () => {
    const s = await start({ maxRequestBytes: 10_000 });
    const entries = Array.from(
      { length: 300 },
      (_, i) => `<entry ip="10.0.1.${i % 250}"><tag><member>t${i}</member></tag></entry>`,
    );
    const res = await api(s, { type: 'user-id', cmd: uid('register', entries.join('')) });
    expect(res.status).toBe(413);
    expect(res.body).toContain('status="error"');
    expect(s.registered().size).toBe(0);
    expect(s.stats.bytesIn).toBeGreaterThan(10_000);
  });

  it('records calls with parsed entries and counts calls and bytes', async () => {
    const s = await start();
    const form = {
      type: 'user-id',
      vsys: 'vsys1',
      cmd: uid('register', '<entry ip="10.0.0.1"><tag><member>a</member><member>b</member></tag></entry>'),
    };
    await api(s, form);
    expect(s.calls).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'user-id',
        vsys: 'vsys1',
        keyVia: 'header',
        status: 200,
        register: [{ ip: '10.0.0.1', tags: ['a', 'b'] }],
        unregister: [],
        bytes: Buffer.byteLength(new URLSearchParams(form).toString()),
      }),
    ]);
    expect(s.stats).toMatchObject({ calls: 1, byType: { 'user-id': 1 } });
    expect(s.stats.bytesOut).toBeGreaterThan(0);
    s.resetCalls();
    expect(s.calls).toHaveLength(0);
    expect(s.stats.calls).toBe(0);
  });

  it('draws faults by rate from a seeded PRNG: the same seed gives the same faults', async () => {
    const run = async (seed: number) => {
      const s = await startPanoramaSimulator({
        faults: { errorRate: 0.3, errorFaults: ['http-500', 'session-timeout'], seed },
      });
      try {
        const statuses: string[] = [];
        for (let i = 0; i < 30; i++) {
          const r = await api(s, { type: 'op', cmd: '<show><devicegroups/></show>' });
          statuses.push(r.status === 500 ? '500' : r.body.includes('code="22"') ? '22' : 'ok');
        }
        return statuses;
      } finally {
        await s.stop();
      }
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(a.filter((x) => x !== 'ok').length).toBeGreaterThan(0);
    expect(a.filter((x) => x === 'ok').length).toBeGreaterThan(0);
    expect(await run(7)).not.toEqual(a);
  });

  it('applies one-shot faults only to matching calls and clears them', async () => {
    const s = await start();
    s.failNext('http-503', { type: 'user-id', target: FW, count: 2 });
    const cmd = uid('register', '<entry ip="10.0.0.1"><tag><member>t</member></tag></entry>');
    expect((await api(s, { type: 'user-id', cmd })).status).toBe(200);
    expect((await api(s, { type: 'user-id', cmd, target: FW })).status).toBe(503);
    expect((await api(s, { type: 'user-id', cmd, target: FW })).status).toBe(503);
    expect((await api(s, { type: 'user-id', cmd, target: FW })).status).toBe(200);
    s.failNext('http-500');
    s.clearFaults();
    expect((await api(s, { type: 'op', cmd: '<show><devicegroups/></show>' })).status).toBe(200);
  });

  it('reboot forgets a firewall’s registered IPs only', async () => {
    const s = await start();
    s.seedTags([{ ip: '10.0.0.1', tags: ['a'] }], FW);
    s.seedTags([{ ip: '10.0.0.1', tags: ['a'] }]);
    s.reboot(FW);
    expect(s.registered(FW).size).toBe(0);
    expect(s.registered().size).toBe(1);
  });

  it('counts calls in flight per target and the most at once, until answered, and resets the peaks', async () => {
    const s = await start({ faults: { latencyMs: 80 } });
    const show = { type: 'op', cmd: '<show><object><registered-ip><all/></registered-ip></object></show>' };
    const calls = [
      ...Array.from({ length: 3 }, () => api(s, { ...show, target: FW })),
      ...Array.from({ length: 2 }, () => api(s, show)),
      api(s, { ...show, target: FW_DOWN }),
    ];
    await until(
      'six calls in flight',
      () => Object.values(s.stats.inFlight).reduce((n, x) => n + x, 0) === 6,
    );
    expect(s.stats.inFlight).toEqual({ [FW]: 3, '': 2, [FW_DOWN]: 1 });
    await Promise.all(calls);
    await until('every call answered', () => Object.values(s.stats.inFlight).every((n) => n === 0));
    expect(s.stats.maxInFlight).toEqual({ [FW]: 3, '': 2, [FW_DOWN]: 1 });
    s.resetMaxInFlight();
    expect(s.stats.maxInFlight).toEqual({});
    expect(s.stats.calls).toBe(6);
  });

  it('counts a hanging call as in flight until the client gives up; resetCalls keeps it in the peak', async () => {
    const s = await start();
    s.failNext('hang', { target: FW });
    const abort = new AbortController();
    const hanging = fetch(`${s.url}/api/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-PAN-KEY': s.apiKey },
      body: new URLSearchParams({ type: 'op', cmd: '<show><devices/></show>', target: FW }).toString(),
      signal: abort.signal,
    }).catch((err: unknown) => err);
    await until('the hanging call', () => s.stats.inFlight[FW] === 1);
    await api(s, { type: 'op', cmd: '<show><devicegroups/></show>' });
    expect(s.stats.inFlight[FW]).toBe(1);
    s.resetCalls();
    expect(s.stats.maxInFlight).toEqual({ [FW]: 1 });
    abort.abort();
    expect(await hanging).toBeInstanceOf(Error);
    await until('the hanging call to end', () => s.stats.inFlight[FW] === 0);
    s.resetMaxInFlight();
    expect(s.stats.maxInFlight).toEqual({});
  });

  it('answers http-404 with an HTML page and maintenance-page with HTTP 200 HTML, applying nothing', async () => {
    const s = await start();
    const cmd = uid('register', '<entry ip="10.0.0.1"><tag><member>t</member></tag></entry>');
    s.failNext('http-404', { type: 'user-id' });
    s.failNext('maintenance-page', { type: 'user-id' });
    const notFound = await api(s, { type: 'user-id', cmd });
    expect(notFound).toMatchObject({ status: 404, contentType: 'text/html' });
    expect(notFound.body).toContain('<html>');
    expect(await api(s, { type: 'user-id', cmd })).toEqual({
      status: 200,
      body: MAINTENANCE_PAGE_BODY,
      contentType: 'text/html',
    });
    expect(s.registered().size).toBe(0);
    expect(s.calls.map((c) => c.fault)).toEqual(['http-404', 'maintenance-page']);
    expect((await api(s, { type: 'user-id', cmd })).body).toContain('status="success"');
    expect(s.registered().get('10.0.0.1')).toEqual(['t']);
  });

  it('moves a firewall between device groups, keeping its registered IPs and connection state', async () => {
    const s = await start();
    s.seedTags([{ ip: '10.0.0.1', tags: ['a'] }], FW_DOWN);
    s.moveFirewall(FW_DOWN, 'dg-2');
    expect(s.firewalls()).toEqual([
      expect.objectContaining({ serial: FW, deviceGroup: 'dg-1', connected: true }),
      expect.objectContaining({ serial: FW_DOWN, deviceGroup: 'dg-2', connected: false }),
    ]);
    expect(s.registered(FW_DOWN)).toEqual(new Map([['10.0.0.1', ['a']]]));
    const groups = (await api(s, { type: 'op', cmd: '<show><devicegroups/></show>' })).body;
    expect(groups).toMatch(/<entry name="dg-1"><devices><entry name="007951000000001">/);
    expect(groups).toMatch(/<entry name="dg-2"><devices><entry name="007951000000002">/);
    expect(() => s.moveFirewall('nope', 'dg-1')).toThrow(/unknown firewall/);
  });
});
