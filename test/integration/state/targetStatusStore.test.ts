import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';
import { TargetStatusStore } from '../../../shared/state/TargetStatusStore.js';
import { describeTargetStatusContract } from '../../helpers/targetStatusContract.js';

/** A fresh table per test, so tests never see each other's rows. */
function freshStore(): TargetStatusStore {
  const name = `status${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  return new TargetStatusStore(
    TableClient.fromConnectionString(inject('azuriteConnectionString'), name, {
      allowInsecureConnection: true,
    }),
  );
}

describeTargetStatusContract('TargetStatusStore on Azurite', freshStore);
