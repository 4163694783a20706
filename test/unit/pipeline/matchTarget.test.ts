import { describe, expect, it } from 'vitest';
import { matchTarget } from '../../../shared/pipeline/targetHoldings.js';

const KNOWN = [
  { target: '007051000123456', hostname: 'vmseries-456' },
  { target: '007051000123456' },
  { target: '007051000654321', hostname: 'VMSeries-321' },
  { target: '0099:vsys2', hostname: 'edge-fw' },
  { target: '0099:vsys3', hostname: 'edge-fw' },
  { target: 'panorama' },
];

describe('matchTarget: --target as a target id or a hostname', () => {
  it.each<[string, string, ReturnType<typeof matchTarget>]>([
    ['a serial', '007051000123456', { kind: 'target', target: '007051000123456', hostname: 'vmseries-456' }],
    ['a serial with a vsys never seen', '0123:vsys4', { kind: 'target', target: '0123:vsys4' }],
    ['panorama', 'panorama', { kind: 'target', target: 'panorama' }],
    ['a hostname', 'vmseries-456', { kind: 'target', target: '007051000123456', hostname: 'vmseries-456' }],
    [
      'a hostname in another case',
      'vmseries-321',
      { kind: 'target', target: '007051000654321', hostname: 'VMSeries-321' },
    ],
    [
      'the hostname of a multi-vsys firewall',
      'EDGE-FW',
      {
        kind: 'ambiguous',
        candidates: [
          { target: '0099:vsys2', hostname: 'edge-fw' },
          { target: '0099:vsys3', hostname: 'edge-fw' },
        ],
      },
    ],
  ])('%s', (_name, text, expected) => {
    expect(matchTarget(text, KNOWN)).toEqual(expected);
  });

  it('an unknown name lists every known target once, with its hostname when recorded', () => {
    expect(matchTarget('nope', KNOWN)).toEqual({
      kind: 'unknown',
      known: [
        { target: '007051000123456', hostname: 'vmseries-456' },
        { target: '007051000654321', hostname: 'VMSeries-321' },
        { target: '0099:vsys2', hostname: 'edge-fw' },
        { target: '0099:vsys3', hostname: 'edge-fw' },
        { target: 'panorama' },
      ],
    });
    expect(matchTarget('nope', [])).toEqual({ kind: 'unknown', known: [] });
  });
});
