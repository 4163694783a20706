import { afterEach, describe, expect, it } from 'vitest';
import type { PanoramaConfig } from '../../../shared/config/loadConfig.js';
import { FailureKind, FirewallNotConnectedError, PanoramaError } from '../../../shared/errors.js';
import {
  parseDeviceGroupHierarchy,
  SHOW_DG_HIERARCHY_COMMAND,
} from '../../../shared/panorama/deviceGroupHierarchy.js';
import { PanoramaClient } from '../../../shared/panorama/PanoramaClient.js';
import { parsePanResponse } from '../../../shared/panorama/parsePanResponse.js';
import {
  type PanoramaSimulator,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';
import { rejectionOf as rejection } from '../../helpers/rejectionOf.js';

/**
 * Contract of the client and the simulator for the deployment shapes of docs/targets.md: multi-vsys
 * firewalls (vsys per device group) and nested device groups (`show dg-hierarchy`).
 */

const MULTI = '007951000000100';
const SINGLE = '007951000000101';
const LEAF = '007951000000102';
const WEB = [{ ip: '10.0.0.5', tags: ['aks.c1.web'] }];

let sim: PanoramaSimulator | undefined;
const clients: PanoramaClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

/** `dg-hub` ⊃ `dg-spoke` (vsys2, vsys3 of MULTI; SINGLE) ⊃ `dg-leaf` (LEAF); `dg-tenant-a` holds vsys1 of MULTI. */
async function start(): Promise<PanoramaSimulator> {
  sim = await startPanoramaSimulator({
    deviceGroups: {
      'dg-hub': [],
      'dg-spoke': [
        { serial: MULTI, hostname: 'fw-multi', vsys: ['vsys2', 'vsys3'] },
        { serial: SINGLE, hostname: 'fw-single' },
      ],
      'dg-leaf': [{ serial: LEAF, hostname: 'fw-leaf', connected: false }],
      'dg-tenant-a': [{ serial: MULTI, vsys: ['vsys1'] }],
      'dg-empty-parent': [],
      'dg-empty-child': [],
    },
    deviceGroupParents: { 'dg-spoke': 'dg-hub', 'dg-leaf': 'dg-spoke', 'dg-empty-child': 'dg-empty-parent' },
  });
  return sim;
}

function client(s: PanoramaSimulator, config: Partial<PanoramaConfig> = {}): PanoramaClient {
  const c = new PanoramaClient({
    url: s.url,
    apiKey: s.apiKey,
    chunkSize: 1000,
    concurrency: 4,
    timeoutMs: 5000,
    ...config,
  });
  clients.push(c);
  return c;
}

describe('device groups: hierarchy and vsys', () => {
  it('a parent group resolves to the firewalls of every descendant, each with the vsys its group holds', async () => {
    const s = await start();
    const fws = await client(s).listDeviceGroupFirewalls(['dg-hub']);
    expect(fws).toEqual([
      {
        serial: MULTI,
        deviceGroup: 'dg-spoke',
        notifyGroup: 'dg-hub',
        connected: true,
        hostname: 'fw-multi',
        multiVsys: true,
        vsys: ['vsys2', 'vsys3'],
      },
      {
        serial: SINGLE,
        deviceGroup: 'dg-spoke',
        notifyGroup: 'dg-hub',
        connected: true,
        hostname: 'fw-single',
      },
      { serial: LEAF, deviceGroup: 'dg-leaf', notifyGroup: 'dg-hub', connected: false, hostname: 'fw-leaf' },
    ]);
    expect(s.calls.map((c) => c.cmd)).toEqual(
      expect.arrayContaining(['<show><devicegroups/></show>', SHOW_DG_HIERARCHY_COMMAND]),
    );
  });

  it('a group whose vsys of a multi-vsys firewall are elsewhere lists only its own', async () => {
    const s = await start();
    const fws = await client(s).listDeviceGroupFirewalls(['dg-tenant-a']);
    expect(fws).toMatchObject([
      { serial: MULTI, deviceGroup: 'dg-tenant-a', multiVsys: true, vsys: ['vsys1'] },
    ]);
  });

  it('a known group with no firewall in it or below resolves to nothing; an unknown one is an error', async () => {
    const s = await start();
    expect(await client(s).listDeviceGroupFirewalls(['dg-empty-parent'])).toEqual([]);
    const err = await rejection(client(s).listDeviceGroupFirewalls(['dg-empty-parent', 'dg-nope']));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).details).toEqual({ missingDeviceGroups: ['dg-nope'] });
  });

  it('answers show dg-hierarchy with nested <dg name dg_id> and code 19', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/api/`, {
      method: 'POST',
      headers: { 'X-PAN-KEY': s.apiKey, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ type: 'op', cmd: SHOW_DG_HIERARCHY_COMMAND }).toString(),
    });
    const body = await res.text();
    expect(body).toMatch(
      /^<response status="success" code="19"><result><dg-hierarchy><dg name="dg-hub" dg_id="\d+">/,
    );
    const parsed = parsePanResponse(body);
    expect(parsed && Object.fromEntries(parseDeviceGroupHierarchy(parsed))).toEqual({
      'dg-hub': undefined,
      'dg-tenant-a': undefined,
      'dg-empty-parent': undefined,
      'dg-spoke': 'dg-hub',
      'dg-empty-child': 'dg-empty-parent',
      'dg-leaf': 'dg-spoke',
    });
  });
});

describe('user-id and read-back per (firewall, vsys)', () => {
  it('registers into the named vsys only and reads that vsys back', async () => {
    const s = await start();
    const c = client(s, { vsys: 'vsys9' });
    await c.registerTags(WEB, { target: MULTI, vsys: 'vsys2' });
    expect(s.registered(MULTI, 'vsys2')).toEqual(new Map([['10.0.0.5', ['aks.c1.web']]]));
    expect(s.registered(MULTI, 'vsys1').size).toBe(0);
    expect(s.registered(MULTI, 'vsys3').size).toBe(0);
    expect(await c.listRegisteredIps({ target: MULTI, vsys: 'vsys3' })).toEqual(new Map());
    expect(await c.listRegisteredIps({ target: MULTI, vsys: 'vsys2' })).toEqual(
      new Map([['10.0.0.5', ['aks.c1.web']]]),
    );
    await c.unregisterTags(WEB, { target: MULTI, vsys: 'vsys2' });
    expect(s.registered(MULTI, 'vsys2').size).toBe(0);
    // PANORAMA_VSYS (vsys9) never reaches a firewall: every call sent the target's own vsys.
    expect(s.calls.filter((x) => x.target === MULTI).map((x) => x.vsys)).toEqual([
      'vsys2',
      'vsys3',
      'vsys2',
      'vsys2',
    ]);
  });

  it('a single-vsys firewall gets no vsys; Panorama itself gets PANORAMA_VSYS', async () => {
    const s = await start();
    const c = client(s, { vsys: 'vsys1' });
    await c.registerTags(WEB, { target: SINGLE });
    await c.listRegisteredIps({ target: SINGLE });
    await c.registerTags(WEB);
    expect(s.calls.map((x) => [x.target, x.vsys])).toEqual([
      [SINGLE, undefined],
      [SINGLE, undefined],
      [undefined, 'vsys1'],
    ]);
    expect(s.registered(SINGLE)).toEqual(new Map([['10.0.0.5', ['aks.c1.web']]]));
    expect(s.registered()).toEqual(new Map([['10.0.0.5', ['aks.c1.web']]]));
  });

  it('a multi-vsys firewall called without vsys, or with a vsys it lacks, fails permanently and applies nothing', async () => {
    const s = await start();
    const c = client(s);
    for (const options of [
      { target: MULTI },
      { target: MULTI, vsys: 'vsys7' },
      { target: SINGLE, vsys: 'vsys2' },
    ]) {
      const err = await rejection(c.registerTags(WEB, options));
      expect(err).toBeInstanceOf(PanoramaError);
      expect(err).not.toBeInstanceOf(FirewallNotConnectedError);
      expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
    }
    for (const vsys of ['vsys1', 'vsys2', 'vsys3']) expect(s.registered(MULTI, vsys).size).toBe(0);
    expect(s.registered(SINGLE).size).toBe(0);
  });

  it('names the vsys in the error of a firewall call', async () => {
    const s = await start();
    const err = await rejection(client(s).listRegisteredIps({ target: MULTI, vsys: 'vsys7' }));
    expect((err as Error).message).toMatch(
      new RegExp(`show registered-ip on firewall ${MULTI} vsys7 failed`),
    );
  });

  it('a disconnected firewall is not connected in every vsys', async () => {
    const s = await start();
    s.setConnected(MULTI, false);
    const err = await rejection(client(s).registerTags(WEB, { target: MULTI, vsys: 'vsys2' }));
    expect(err).toBeInstanceOf(FirewallNotConnectedError);
  });
});
