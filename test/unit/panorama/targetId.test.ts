import { describe, expect, it } from 'vitest';
import {
  describeTarget,
  type FirewallTarget,
  formatTargetId,
  type ParsedTarget,
  parseTargetId,
} from '../../../shared/panorama/targetId.js';
import { parseDeltaMessage } from '../../../shared/pipeline/messages.js';
import { targetOptions } from '../../../shared/pipeline/pushTagDeltas.js';

describe('formatTargetId', () => {
  it.each<[FirewallTarget, string]>([
    [{ serial: '007951000012345' }, '007951000012345'],
    [{ serial: '0101' }, '0101'],
    [{ serial: '007951000012345', vsys: 'vsys2' }, '007951000012345:vsys2'],
    [{ serial: '1', vsys: 'vsys1' }, '1:vsys1'],
    [{ serial: '1', vsys: 'vsys255' }, '1:vsys255'],
  ])('%o → %s', (target, id) => {
    expect(formatTargetId(target)).toBe(id);
  });

  it.each<[FirewallTarget]>([
    [{ serial: '' }],
    [{ serial: 'PA-0101' }],
    [{ serial: '0101:vsys2' }],
    [{ serial: '0101', vsys: 'vsys0' }],
    [{ serial: '0101', vsys: 'VSYS2' }],
    [{ serial: '0101', vsys: 'shared' }],
    [{ serial: '0101', vsys: '' }],
    [{ serial: '0101', vsys: 'vsys1/x' }],
  ])('refuses %o', (target) => {
    expect(() => formatTargetId(target)).toThrow(TypeError);
  });
});

describe('parseTargetId', () => {
  it.each<[string, ParsedTarget | undefined]>([
    ['panorama', { kind: 'panorama' }],
    ['0101', { kind: 'firewall', serial: '0101' }],
    ['007951000012345:vsys2', { kind: 'firewall', serial: '007951000012345', vsys: 'vsys2' }],
    ['0101:vsys999', { kind: 'firewall', serial: '0101', vsys: 'vsys999' }],
    ['', undefined],
    ['Panorama', undefined],
    ['fw-1', undefined],
    ['0101:', undefined],
    ['0101:vsys', undefined],
    ['0101:vsys01', undefined],
    ['0101:vsys1000', undefined],
    ['0101:vsys2:vsys3', undefined],
    [':vsys2', undefined],
    ['0101/vsys2', undefined],
    ['0101#vsys2', undefined],
    ['0101 ', undefined],
    ['x'.repeat(40), undefined],
  ])('%j → %o', (id, parsed) => {
    expect(parseTargetId(id)).toEqual(parsed);
  });

  it('reads back every id it formats', () => {
    for (const t of [{ serial: '0101' }, { serial: '0101', vsys: 'vsys3' }]) {
      expect(parseTargetId(formatTargetId(t))).toEqual({ kind: 'firewall', ...t });
    }
  });
});

describe('describeTarget', () => {
  it.each<[string, string | undefined, string]>([
    ['panorama', undefined, 'panorama'],
    ['0101', undefined, '0101'],
    ['0101', 'fw-east-1', 'fw-east-1 (0101)'],
    ['0101:vsys2', 'fw-east-1', 'fw-east-1 (0101 vsys2)'],
    ['0101:vsys2', undefined, '0101 vsys2'],
    ['not a target', 'fw', 'not a target'],
  ])('%s with hostname %s → %s', (id, hostname, text) => {
    expect(describeTarget(id, hostname)).toBe(text);
  });
});

describe('targetOptions (target id → TargetOptions of a call)', () => {
  it.each([
    ['panorama', {}],
    ['0101', { target: '0101' }],
    ['0101:vsys2', { target: '0101', vsys: 'vsys2' }],
  ])('%s → %o', (id, options) => {
    expect(targetOptions(id)).toEqual(options);
  });

  it('refuses a string that is not a target id', () => {
    expect(() => targetOptions('0101:shared')).toThrow(/not a target/);
  });
});

describe('delta messages name a valid target', () => {
  const message = (target: string) => ({
    v: 1,
    cluster: 'c1',
    target,
    generation: 1,
    deltas: [{ ip: '10.0.0.1', register: ['aks.c1.web'], unregister: [] }],
  });

  it.each(['panorama', '0101', '007951000012345:vsys2'])('accepts %s', (target) => {
    expect(parseDeltaMessage(message(target)).target).toBe(target);
  });

  it.each(['fw-1', '0101:vsys0', '0101:', '0101/vsys2', 'x'])('refuses %s', (target) => {
    expect(() => parseDeltaMessage(message(target))).toThrow(/malformed tag-deltas message at target/);
  });
});
