import type { FaultQueue } from '../FaultQueue.js';
import type { ArmClusterStore } from './ArmClusterStore.js';
import type { ArmDenials } from './ArmDenials.js';
import type { ArmFault, RecordedArmRequest } from './startArmSimulator.js';

/** Everything a running ARM simulator keeps, shared by its request handler and its handle. */
export interface ArmSimulatorState {
  /** The accepted bearer token. */
  token: string;
  /** Base URL, set once the server listens (list `nextLink`s name it). */
  url: string;
  readonly tenantId: string;
  /** PEM of the CA kubeconfigs name when a cluster's `apiServer` gives none. */
  readonly caPem: string;
  /** Clusters per page of the list operations. */
  readonly pageSize: number;
  /** Accepted api-versions (undefined: any `YYYY-MM-DD[-preview]`). */
  readonly apiVersions: readonly string[] | undefined;
  readonly clusters: ArmClusterStore;
  readonly denials: ArmDenials;
  readonly faults: FaultQueue<ArmFault>;
  readonly requests: RecordedArmRequest[];
}
