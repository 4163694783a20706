import { describe, expect, it } from 'vitest';
import { statusAttention } from '../../../shared/pipeline/statusAttention.js';
import { clusterStatus, statusReport } from '../../helpers/statusReports.js';

const cluster = clusterStatus;
const report = statusReport;

const target = { cluster: 'aks-a', target: '0101', pending: 0, poisoned: 0 };

describe('statusAttention', () => {
  it.each([
    ['a healthy report (pending work is not a failure)', report(), []],
    [
      'a held cluster',
      report({
        clusters: [cluster({ heldRemovals: 23, lastRecomputeResult: 'held', lastError: 'removal guard: …' })],
      }),
      ['cluster aks-a: 23 tag removals held by the removal guard'],
    ],
    [
      'a failed recompute',
      report({
        clusters: [cluster({ lastRecomputeResult: 'failed', lastError: 'API server refused the token' })],
      }),
      ['cluster aks-a: last recompute failed: API server refused the token'],
    ],
    [
      'a device group resolving to no firewall',
      report({ clusters: [cluster({ targetProblems: ['device group dg-x holds no firewall'] })] }),
      ['cluster aks-a: device group dg-x holds no firewall'],
    ],
    [
      'rejected entries on a target',
      report({
        clusters: [cluster({ targets: [{ ...target, failedEntries: 2, lastError: '2 entries rejected' }] })],
      }),
      ['cluster aks-a target 0101: 2 entries rejected by the device'],
    ],
    [
      'a failed push',
      report({ clusters: [cluster({ targets: [{ ...target, lastError: 'Panorama unreachable' }] })] }),
      ['cluster aks-a target 0101: Panorama unreachable'],
    ],
    [
      'a disconnected firewall only (the audit repairs it)',
      report({
        clusters: [cluster({ targets: [{ ...target, disconnected: true, lastError: 'not connected' }] })],
      }),
      [],
    ],
    [
      'IPs over their budget and policy warnings only (shown, not failures)',
      report({
        clusters: [cluster({ ipsOverBudget: 4, policyWarnings: ['tag … stands for 2 namespaces'] })],
      }),
      [],
    ],
    [
      'a failed audit',
      report({ audits: [{ target: '0102', lastError: '1 entries rejected: 10.0.0.1 …' }] }),
      ['audit 0102: 1 entries rejected: 10.0.0.1 …'],
    ],
    [
      'poisoned messages',
      report({ queues: [{ name: 'tag-deltas-poison', depth: 2 }] }),
      [
        '2 poisoned messages in tag-deltas-poison: run "aks-panorama-sync replay-poison" once the cause is fixed',
      ],
    ],
  ])('%s', (_name, input, expected) => {
    // act
    const lines = statusAttention(input);

    // assess
    expect(lines).toEqual(expected);
  });

  it.each([
    ['an HA pair with an active peer', { active: 'pano-a:443', peers: [] }, []],
    [
      'an HA pair without an active peer',
      { peers: [] },
      ['Panorama HA pair: no active peer; pushes and audits are retried until one is active'],
    ],
  ])('%s', (_name, panorama, expected) => {
    // act and assess
    expect(statusAttention(report(), panorama)).toEqual(expected);
  });
});
