import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential } from '@azure/identity';
import { QueueServiceClient } from '@azure/storage-queue';
import type { StorageConfig } from '../config/loadConfig.js';

/** Storage clients for one account: a queue service and a table client factory. */
export interface StorageClients {
  queueService: QueueServiceClient;
  table(name: string): TableClient;
}

function isLoopbackConnection(conn: string): boolean {
  return (
    /UseDevelopmentStorage=true/i.test(conn) || /Endpoint=http:\/\/(127\.|localhost|\[::1\])/i.test(conn)
  );
}

/**
 * Builds the storage clients from the configuration: a connection string (Azurite, or keys where a
 * user insists), or identity-based service URIs with `DefaultAzureCredential` (the managed identity
 * in Azure, `AzureWebJobsStorage__clientId` selecting a user-assigned one).
 */
export function createStorageClients(storage: StorageConfig): StorageClients {
  if (storage.kind === 'connectionString') {
    const conn = storage.connectionString;
    const allowInsecureConnection = isLoopbackConnection(conn);
    return {
      queueService: QueueServiceClient.fromConnectionString(conn),
      table: (name) => TableClient.fromConnectionString(conn, name, { allowInsecureConnection }),
    };
  }
  const credential = new DefaultAzureCredential(
    storage.clientId ? { managedIdentityClientId: storage.clientId } : {},
  );
  return {
    queueService: new QueueServiceClient(storage.queueServiceUri, credential),
    table: (name) => new TableClient(storage.tableServiceUri, name, credential),
  };
}
