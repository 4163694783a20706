import { describe, expect, it } from 'vitest';
import { formatHoldings, splitHoldings } from '../../../shared/pipeline/targetHoldings.js';

describe('splitHoldings', () => {
  it.each([
    ['nothing registered', new Map(), new Set(['aks-a']), []],
    [
      'owned and foreign tags apart, sorted and unique',
      new Map([['10.0.0.2', ['owner.netsec', 'aks.aks-a.web', 'aks_web.aks-a.web', 'aks.aks-a.web']]]),
      new Set(['aks-a']),
      [{ ip: '10.0.0.2', owned: ['aks.aks-a.web', 'aks_web.aks-a.web'], foreign: ['owner.netsec'] }],
    ],
    [
      "a cluster not managed here is someone else's",
      new Map([['10.0.0.1', ['aks.aks-b.web', 'aks.aks-a.web']]]),
      new Set(['aks-a']),
      [{ ip: '10.0.0.1', owned: ['aks.aks-a.web'], foreign: ['aks.aks-b.web'] }],
    ],
    [
      'IPs in code-unit order',
      new Map([
        ['10.0.0.9', ['x']],
        ['10.0.0.10', ['y']],
      ]),
      new Set<string>(),
      [
        { ip: '10.0.0.10', owned: [], foreign: ['y'] },
        { ip: '10.0.0.9', owned: [], foreign: ['x'] },
      ],
    ],
  ])('%s', (_name, device, managed, expected) => {
    // act and assess
    expect(splitHoldings(device, managed)).toEqual(expected);
  });

  it('formats one line per IP with the counts first', () => {
    // prepare
    const held = splitHoldings(
      new Map([['10.0.0.2', ['owner.netsec', 'aks.aks-a.web']]]),
      new Set(['aks-a']),
    );

    // act
    const text = formatHoldings('0101', held);

    // assess
    expect(text).toBe(
      'target 0101: 1 registered IPs, 1 owned tags, 1 foreign tags\n  10.0.0.2  owned: aks.aks-a.web  foreign: owner.netsec\n',
    );
  });
});
