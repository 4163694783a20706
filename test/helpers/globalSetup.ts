import type { TestProject } from 'vitest/node';
import { type AzuriteServer, startAzurite } from '../../host/azurite.js';

let azurite: AzuriteServer | undefined;

/**
 * Starts one Azurite (in-memory, free ports) for the whole test run, unless
 * `AZURITE_CONNECTION_STRING` already points at one (e.g. started by `.ci/run`).
 */
export async function setup(project: TestProject): Promise<void> {
  let connectionString = process.env.AZURITE_CONNECTION_STRING;
  if (!connectionString) {
    azurite = await startAzurite();
    connectionString = azurite.connectionString;
  }
  project.provide('azuriteConnectionString', connectionString);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}
