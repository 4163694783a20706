import { describe, expect, it } from 'vitest';
import { choosePermit, isPermitFree, type PermitChoice } from '../../../shared/panorama/choosePermit.js';
import {
  type PermitRow,
  permitIndex,
  permitPartition,
  permitRowKey,
} from '../../../shared/state/PermitRepository.js';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');

/** Permit `index`: held by `owner` until NOW + `untilIn` ms ('' = free). */
const row = (index: number, owner = '', untilIn = 0): PermitRow => ({
  index,
  owner,
  untilMs: owner === '' ? 0 : NOW + untilIn,
  etag: `e${index}`,
});

describe('choosePermit', () => {
  const cases: { name: string; rows: PermitRow[]; limit: number; start: number; want: PermitChoice }[] = [
    { name: 'no rows: create the first', rows: [], limit: 4, start: 0, want: { action: 'create', index: 0 } },
    {
      name: 'no rows, scanning from 2: create permit 2',
      rows: [],
      limit: 4,
      start: 2,
      want: { action: 'create', index: 2 },
    },
    {
      name: 'a free row: take it with its ETag',
      rows: [row(0)],
      limit: 1,
      start: 0,
      want: { action: 'take', index: 0, etag: 'e0' },
    },
    {
      name: 'held rows are skipped; a missing one is created',
      rows: [row(0, 'a#1', 5000), row(1, 'b#1', 5000)],
      limit: 3,
      start: 0,
      want: { action: 'create', index: 2 },
    },
    {
      name: 'a hold that expired is taken over, naming its holder',
      rows: [row(0, 'a#1', 5000), row(1, 'crashed#7', -1)],
      limit: 2,
      start: 0,
      want: { action: 'take', index: 1, etag: 'e1', previousOwner: 'crashed#7' },
    },
    {
      name: 'a hold expiring exactly now is free',
      rows: [row(0, 'a#1', 0)],
      limit: 1,
      start: 0,
      want: { action: 'take', index: 0, etag: 'e0', previousOwner: 'a#1' },
    },
    {
      name: 'every permit held: wait',
      rows: [row(0, 'a#1', 1), row(1, 'b#1', 60_000)],
      limit: 2,
      start: 1,
      want: { action: 'wait', held: 2 },
    },
    {
      name: 'rows beyond the limit (a larger limit before) are ignored, free or not',
      rows: [row(0, 'a#1', 5000), row(1), row(2)],
      limit: 1,
      start: 0,
      want: { action: 'wait', held: 1 },
    },
    {
      name: 'the scan wraps around from start',
      rows: [row(0), row(1, 'a#1', 5000), row(2, 'b#1', 5000)],
      limit: 3,
      start: 1,
      want: { action: 'take', index: 0, etag: 'e0' },
    },
    {
      name: 'a start outside 0..limit-1 is taken modulo the limit',
      rows: [row(0, 'a#1', 5000)],
      limit: 2,
      start: -3,
      want: { action: 'create', index: 1 },
    },
  ];
  it.each(cases)('$name', ({ rows, limit, start, want }) => {
    expect(choosePermit(rows, { limit, nowMs: NOW, start })).toEqual(want);
  });
});

describe('isPermitFree', () => {
  it.each([
    { owner: '', untilMs: NOW + 10_000, free: true },
    { owner: 'a#1', untilMs: NOW + 1, free: false },
    { owner: 'a#1', untilMs: NOW, free: true },
    { owner: 'a#1', untilMs: 0, free: true },
  ])('owner "$owner", until now+$untilMs: free $free', ({ owner, untilMs, free }) => {
    expect(isPermitFree({ owner, untilMs }, NOW)).toBe(free);
  });
});

describe('permit rows and partitions', () => {
  it.each([
    ['permit-0', 0],
    ['permit-15', 15],
    ['permit-01', undefined],
    ['permit-', undefined],
    ['permit-1x', undefined],
    ['other', undefined],
  ])('permitIndex(%s) = %s', (key, index) => {
    expect(permitIndex(key)).toBe(index);
  });

  it('round-trips row keys', () => {
    for (const i of [0, 3, 15]) expect(permitIndex(permitRowKey(i))).toBe(i);
  });

  it.each([
    ['https://Panorama.Example.net', 'panorama.example.net'],
    ['https://panorama.example.net:8443/', 'panorama.example.net:8443'],
    ['http://127.0.0.1:41234', '127.0.0.1:41234'],
    ['https://pano-b.example.net, https://pano-a.example.net', 'pano-a.example.net,pano-b.example.net'],
    ['not a url/#?', 'not a url___'],
  ])('permitPartition(%s) = %s', (url, partition) => {
    expect(permitPartition(url)).toBe(partition);
  });
});
