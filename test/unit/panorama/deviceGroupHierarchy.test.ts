import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  descendantsOf,
  type GroupParents,
  parseDeviceGroupHierarchy,
} from '../../../shared/panorama/deviceGroupHierarchy.js';
import { parseDeviceGroups, selectDeviceGroups } from '../../../shared/panorama/deviceGroups.js';
import { type PanResponse, parsePanResponse } from '../../../shared/panorama/parsePanResponse.js';

function parsed(name: string): PanResponse {
  const r = parsePanResponse(
    readFileSync(new URL(`../../fixtures/panorama/${name}`, import.meta.url), 'utf8'),
  );
  if (!r) throw new Error(`fixture ${name} does not parse`);
  return r;
}

const MULTI = '007951000000010';
const SINGLE = '007951000000011';
const LEAF = '007951000000012';

describe('show devicegroups: multi-vsys firewalls', () => {
  it('reads multi-vsys and the vsys each group holds; a single-vsys firewall lists none', () => {
    expect(parseDeviceGroups(parsed('devicegroups-multi-vsys.xml'))).toEqual([
      { name: 'dg-hub', firewalls: [] },
      {
        name: 'dg-spoke-a',
        firewalls: [
          {
            serial: MULTI,
            deviceGroup: 'dg-spoke-a',
            connected: true,
            hostname: 'fw-multi-1',
            multiVsys: true,
            vsys: ['vsys2', 'vsys3'],
          },
          { serial: SINGLE, deviceGroup: 'dg-spoke-a', connected: true, hostname: 'fw-single-1' },
        ],
      },
      {
        name: 'dg-spoke-b',
        // `shared` is not a vsys<N> name: dropped.
        firewalls: [
          {
            serial: MULTI,
            deviceGroup: 'dg-spoke-b',
            connected: true,
            hostname: 'fw-multi-1',
            multiVsys: true,
            vsys: ['vsys1'],
          },
        ],
      },
      {
        name: 'dg-leaf',
        firewalls: [
          { serial: LEAF, deviceGroup: 'dg-leaf', connected: false, hostname: 'fw-leaf-1', multiVsys: true },
        ],
      },
      { name: 'dg-lonely', firewalls: [] },
    ]);
  });
});

describe('show dg-hierarchy', () => {
  it('reads nested <dg> elements as child → parent', () => {
    expect([...parseDeviceGroupHierarchy(parsed('dg-hierarchy.xml'))]).toEqual([
      ['dg-hub', undefined],
      ['dg-lonely', undefined],
      ['dg-spoke-a', 'dg-hub'],
      ['dg-spoke-b', 'dg-hub'],
      ['dg-leaf', 'dg-spoke-a'],
    ]);
  });

  it.each([
    ['<dg-hierarchy/>', []],
    ['<dg-hierarchy><dg name="a"/></dg-hierarchy>', [['a', undefined]]],
    ['<dg-hierarchy><dg><dg name="lost"/></dg><dg name="b"/></dg-hierarchy>', [['b', undefined]]],
    ['<dg-hierarchy><dg name="a"><dg name="a"/></dg></dg-hierarchy>', [['a', undefined]]],
  ])('%s', (xml, expected) => {
    const r = parsePanResponse(`<response status="success"><result>${xml}</result></response>`);
    expect(r && [...parseDeviceGroupHierarchy(r)]).toEqual(expected);
  });
});

describe('descendantsOf', () => {
  const parents: GroupParents = new Map([
    ['hub', undefined],
    ['a', 'hub'],
    ['b', 'hub'],
    ['a1', 'a'],
    ['a1x', 'a1'],
    ['other', undefined],
  ]);
  it.each([
    ['hub', ['a', 'b', 'a1', 'a1x']],
    ['a', ['a1', 'a1x']],
    ['a1x', []],
    ['other', []],
    ['unknown', []],
  ])('%s → %o', (group, expected) => {
    expect(descendantsOf(group, parents)).toEqual(expected);
  });
});

describe('selectDeviceGroups with the hierarchy', () => {
  const groups = parseDeviceGroups(parsed('devicegroups-multi-vsys.xml'));
  const parents = parseDeviceGroupHierarchy(parsed('dg-hierarchy.xml'));
  const pick = (names: string[]) =>
    selectDeviceGroups(groups, names, parents).map((f) => [f.notifyGroup, f.deviceGroup, f.serial]);

  it('a parent group includes the firewalls of all its descendants', () => {
    expect(pick(['dg-hub'])).toEqual([
      ['dg-hub', 'dg-spoke-a', MULTI],
      ['dg-hub', 'dg-spoke-a', SINGLE],
      ['dg-hub', 'dg-spoke-b', MULTI],
      ['dg-hub', 'dg-leaf', LEAF],
    ]);
  });

  it('a leaf group is only itself; a group with no firewall anywhere below yields none', () => {
    expect(pick(['dg-leaf', 'dg-lonely'])).toEqual([['dg-leaf', 'dg-leaf', LEAF]]);
  });

  it('without a hierarchy, a group is only its own devices', () => {
    expect(selectDeviceGroups(groups, ['dg-hub'])).toEqual([]);
  });
});
