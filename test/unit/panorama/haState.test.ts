import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  choosePeer,
  describeObservations,
  type PeerObservation,
  type PeerRole,
  parseHaState,
} from '../../../shared/panorama/haState.js';
import { parsePanResponse } from '../../../shared/panorama/parsePanResponse.js';
import { haStateBody, type SimHaRole } from '../../../sim/panorama/panoramaHa.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/panorama/${name}`, import.meta.url), 'utf8');

function observe(body: string): PeerObservation {
  const response = parsePanResponse(body);
  if (!response) throw new Error('not a PAN-OS response');
  return parseHaState(response);
}

const haBody = (state: string, enabled = 'yes', group = false) => {
  const inner = `<enabled>${enabled}</enabled><local-info><state>${state}</state><state-duration>42</state-duration></local-info>`;
  return `<response status="success"><result>${group ? `<group>${inner}</group>` : inner}</result></response>`;
};

describe('parseHaState', () => {
  it('reads the active peer of a Panorama pair (trimmed XSOAR capture)', () => {
    expect(observe(fixture('ha-state-panorama-enabled.xml'))).toEqual({
      role: 'active',
      state: 'primary-active',
      stateDurationSeconds: 10840,
    });
  });

  it('reads a Panorama without HA as standalone (XSOAR capture)', () => {
    expect(observe(fixture('ha-state-disabled.xml'))).toEqual({ role: 'standalone' });
  });

  it.each<[string, string, PeerRole]>([
    ['primary-active', 'yes', 'active'],
    ['secondary-active', 'yes', 'active'],
    ['secondary-passive', 'yes', 'passive'],
    ['primary-passive', 'yes', 'passive'],
    ['Primary-Active ', 'yes', 'active'],
    ['active', 'yes', 'active'],
    ['passive', 'yes', 'passive'],
    ['primary-suspended', 'yes', 'not-ready'],
    ['secondary-non-functional', 'yes', 'not-ready'],
    ['initial', 'yes', 'not-ready'],
    ['inactive', 'yes', 'not-ready'],
    ['', 'yes', 'not-ready'],
    ['primary-active', 'no', 'standalone'],
  ])('state %j with enabled=%s → %s', (state, enabled, role) => {
    expect(observe(haBody(state, enabled)).role).toBe(role);
  });

  it("accepts a firewall's answer nested under result/group", () => {
    expect(observe(haBody('active', 'yes', true))).toEqual({
      role: 'active',
      state: 'active',
      stateDurationSeconds: 42,
    });
  });

  it.each<[string, SimHaRole, string]>([
    ['primary', 'active', 'primary-active'],
    ['secondary', 'passive', 'secondary-passive'],
    ['primary', 'non-functional', 'primary-non-functional'],
  ])('reads what the simulator answers (%s %s)', (priority, role, state) => {
    const body = haStateBody({ priority: priority as 'primary', role, since: Date.now() - 5000 }, Date.now());
    const o = observe(body);
    expect(o.state).toBe(state);
    expect(o.stateDurationSeconds).toBeGreaterThanOrEqual(4);
  });
});

const o = (role: PeerRole): PeerObservation => ({ role });

describe('choosePeer', () => {
  it.each<[PeerRole[], number | undefined]>([
    [['active', 'passive'], 0],
    [['passive', 'active'], 1],
    [['unreachable', 'active'], 1],
    [['active', 'unreachable'], 0],
    [['active', 'active'], 0],
    [['standalone', 'passive'], 0],
    [['passive', 'standalone'], 1],
    [['standalone', 'active'], 1],
    [['passive', 'passive'], undefined],
    [['unreachable', 'passive'], undefined],
    [['not-ready', 'passive'], undefined],
    [['unreachable', 'unreachable'], undefined],
    [['standalone'], 0],
    [['unreachable'], undefined],
  ])('%j → %s', (roles, expected) => {
    expect(choosePeer(roles.map(o))).toBe(expected);
  });
});

describe('describeObservations', () => {
  it('names each peer, its role and state or reason', () => {
    expect(
      describeObservations(
        ['https://a', 'https://b', 'https://c'],
        [
          { role: 'passive', state: 'secondary-passive' },
          { role: 'unreachable', reason: 'ECONNREFUSED' },
        ],
      ),
    ).toBe(
      'https://a: passive (secondary-passive); https://b: unreachable (ECONNREFUSED); https://c: not asked',
    );
  });
});
