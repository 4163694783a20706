import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_STATUS_ERROR_CHARS,
  PANORAMA_TARGET,
  type TargetStatusRepository,
} from '../../shared/state/TargetStatusRepository.js';

/**
 * The contract of a {@link TargetStatusRepository} (see shared/state/TargetStatusRepository.ts),
 * defined as `describe` blocks; `create` returns a fresh, empty repository for every test.
 */
export function describeTargetStatusContract(
  name: string,
  create: () => TargetStatusRepository | Promise<TargetStatusRepository>,
): void {
  describe(`${name}: the TargetStatusRepository contract`, () => {
    let status: TargetStatusRepository;
    beforeEach(async () => {
      status = await create();
    });
    describePushRows(() => status);
    describeAuditRows(() => status);
    describeVsysTargets(() => status);
    describeLongStrings(() => status);
  });
}

function describePushRows(repo: () => TargetStatusRepository): void {
  describe('push rows', () => {
    it('has no rows when nothing was recorded', async () => {
      expect(await repo().listPushStatus()).toEqual([]);
      expect(await repo().listAuditStatus()).toEqual([]);
    });

    it('records a push and lists it back with every field', async () => {
      const row = {
        cluster: 'aks-a',
        target: '0101',
        lastPushAt: '2024-01-02T03:04:05.000Z',
        lastPushGeneration: 7,
        registered: 12,
        unregistered: 3,
        failedEntries: 0,
        disconnected: false,
        lastError: '',
      };
      await repo().recordPush(row);
      expect(await repo().listPushStatus()).toEqual([row]);
    });

    it('merges fields into the row: undefined fields keep the stored ones, defined ones replace them', async () => {
      await repo().recordPush({
        cluster: 'aks-a',
        target: '0101',
        lastPushAt: '2024-01-01T00:00:00.000Z',
        lastPushGeneration: 1,
        registered: 5,
        unregistered: 0,
        failedEntries: 0,
        disconnected: false,
        lastError: '',
      });
      // A failed push (as pushTagDeltas records it): only the error fields.
      await repo().recordPush({
        cluster: 'aks-a',
        target: '0101',
        disconnected: true,
        lastError: 'not connected',
        lastErrorAt: '2024-01-02T00:00:00.000Z',
        lastPushAt: undefined,
      });
      expect(await repo().listPushStatus()).toEqual([
        {
          cluster: 'aks-a',
          target: '0101',
          lastPushAt: '2024-01-01T00:00:00.000Z',
          lastPushGeneration: 1,
          registered: 5,
          unregistered: 0,
          failedEntries: 0,
          disconnected: true,
          lastError: 'not connected',
          lastErrorAt: '2024-01-02T00:00:00.000Z',
        },
      ]);
      // A later success clears the error with '' and leaves lastErrorAt alone.
      await repo().recordPush({
        cluster: 'aks-a',
        target: '0101',
        lastPushAt: '2024-01-03T00:00:00.000Z',
        lastPushGeneration: 2,
        registered: 0,
        disconnected: false,
        lastError: '',
      });
      const [row] = await repo().listPushStatus();
      expect(row).toMatchObject({
        lastPushAt: '2024-01-03T00:00:00.000Z',
        lastPushGeneration: 2,
        registered: 0,
        unregistered: 0,
        disconnected: false,
        lastError: '',
        lastErrorAt: '2024-01-02T00:00:00.000Z',
      });
    });

    it('keys rows by cluster case-insensitively and by target', async () => {
      await repo().recordPush({ cluster: 'AKS-A', target: '0101', registered: 1 });
      await repo().recordPush({ cluster: 'aks-a', target: '0101', unregistered: 2 });
      await repo().recordPush({ cluster: 'aks-a', target: PANORAMA_TARGET, registered: 3 });
      await repo().recordPush({ cluster: 'aks-b', target: '0101', registered: 4 });
      const rows = await repo().listPushStatus();
      const byKey = new Map(rows.map((r) => [`${r.cluster.toLowerCase()}/${r.target}`, r]));
      expect(rows).toHaveLength(3);
      expect(byKey.get('aks-a/0101')).toMatchObject({ registered: 1, unregistered: 2 });
      expect(byKey.get(`aks-a/${PANORAMA_TARGET}`)).toMatchObject({ registered: 3 });
      expect(byKey.get(`aks-a/${PANORAMA_TARGET}`)?.unregistered).toBeUndefined();
      expect(byKey.get('aks-b/0101')).toMatchObject({ registered: 4 });
    });
  });
}

function describeVsysTargets(repo: () => TargetStatusRepository): void {
  describe('(firewall, vsys) targets', () => {
    it('keeps the default vsys and each named vsys of one firewall apart, with hostname, group and vsys', async () => {
      const named = { hostname: 'fw-multi', deviceGroup: 'dg-spoke' };
      await repo().recordPush({ cluster: 'aks-a', target: '0101', ...named, registered: 1 });
      await repo().recordPush({
        cluster: 'aks-a',
        target: '0101:vsys2',
        ...named,
        vsys: 'vsys2',
        registered: 2,
      });
      await repo().recordPush({ cluster: 'aks-a', target: '0101:vsys3', ...named, vsys: 'vsys3' });
      // A later record without the naming fields (a push) keeps them.
      await repo().recordPush({ cluster: 'aks-a', target: '0101:vsys3', registered: 3 });
      await repo().recordAudit({ target: '0101:vsys2', ...named, vsys: 'vsys2', registered: 4 });
      const pushes = (await repo().listPushStatus()).sort((a, b) => a.target.localeCompare(b.target));
      expect(pushes).toEqual([
        { cluster: 'aks-a', target: '0101', ...named, registered: 1 },
        { cluster: 'aks-a', target: '0101:vsys2', ...named, vsys: 'vsys2', registered: 2 },
        { cluster: 'aks-a', target: '0101:vsys3', ...named, vsys: 'vsys3', registered: 3 },
      ]);
      expect(await repo().listAuditStatus()).toEqual([
        { target: '0101:vsys2', ...named, vsys: 'vsys2', registered: 4 },
      ]);
    });
  });
}

function describeAuditRows(repo: () => TargetStatusRepository): void {
  describe('audit rows', () => {
    it('merges audit fields per target', async () => {
      await repo().recordAudit({
        target: '0101',
        lastAuditAt: '2024-01-01T00:00:00.000Z',
        registered: 2,
        unregistered: 1,
        lastError: '',
      });
      await repo().recordAudit({
        target: '0101',
        lastError: 'boom',
        lastErrorAt: '2024-01-02T00:00:00.000Z',
      });
      await repo().recordAudit({ target: '0202', lastAuditAt: '2024-01-03T00:00:00.000Z' });
      const rows = await repo().listAuditStatus();
      const byTarget = new Map(rows.map((r) => [r.target, r]));
      expect(rows).toHaveLength(2);
      expect(byTarget.get('0101')).toEqual({
        target: '0101',
        lastAuditAt: '2024-01-01T00:00:00.000Z',
        registered: 2,
        unregistered: 1,
        lastError: 'boom',
        lastErrorAt: '2024-01-02T00:00:00.000Z',
      });
      expect(byTarget.get('0202')).toEqual({ target: '0202', lastAuditAt: '2024-01-03T00:00:00.000Z' });
    });

    it('keeps push rows and audit rows apart, even for the same target', async () => {
      await repo().recordPush({ cluster: 'aks-a', target: '0101', registered: 1 });
      await repo().recordAudit({ target: '0101', registered: 9 });
      await repo().recordAudit({ target: PANORAMA_TARGET, lastError: 'x' });
      const pushes = await repo().listPushStatus();
      const audits = await repo().listAuditStatus();
      expect(pushes).toEqual([{ cluster: 'aks-a', target: '0101', registered: 1 }]);
      expect(audits.map((a) => a.target).sort()).toEqual(['0101', PANORAMA_TARGET].sort());
      expect(audits.find((a) => a.target === '0101')).toEqual({ target: '0101', registered: 9 });
    });
  });
}

function describeLongStrings(repo: () => TargetStatusRepository): void {
  describe('long strings', () => {
    it(`keeps strings of ${MAX_STATUS_ERROR_CHARS} characters and cuts longer ones, ending in …`, async () => {
      const exact = 'e'.repeat(MAX_STATUS_ERROR_CHARS);
      const long = `${'x'.repeat(MAX_STATUS_ERROR_CHARS - 1)}TAIL${'y'.repeat(40_000)}`;
      await repo().recordPush({ cluster: 'aks-a', target: '0101', lastError: long });
      await repo().recordPush({ cluster: 'aks-a', target: '0202', lastError: exact });
      await repo().recordAudit({ target: '0101', lastError: long });
      const pushes = await repo().listPushStatus();
      const cut = pushes.find((p) => p.target === '0101')?.lastError ?? '';
      expect(cut).toHaveLength(MAX_STATUS_ERROR_CHARS);
      expect(cut).toBe(`${'x'.repeat(MAX_STATUS_ERROR_CHARS - 1)}…`);
      expect(pushes.find((p) => p.target === '0202')?.lastError).toBe(exact);
      expect((await repo().listAuditStatus())[0]?.lastError).toBe(cut);
    });
  });
}
