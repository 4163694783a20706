import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';
import { PermitStore } from '../../../shared/state/PermitStore.js';
import { describePermitRepositoryContract } from '../../helpers/permitRepositoryContract.js';

/** A fresh table per test, so tests never see each other's rows (the table is created on first use). */
function freshStore(): PermitStore {
  const name = `permits${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  return new PermitStore(
    TableClient.fromConnectionString(inject('azuriteConnectionString'), name, {
      allowInsecureConnection: true,
    }),
  );
}

describePermitRepositoryContract('PermitStore on Azurite', freshStore);
