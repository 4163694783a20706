import type { FaultQueue } from '../FaultQueue.js';
import type { KubeServiceStore } from './KubeServiceStore.js';
import type { ListSnapshots } from './ListSnapshots.js';
import type { ForbiddenMode, KubernetesFault, RecordedKubeRequest } from './startKubernetesSimulator.js';

/** A queued fault and whether it only applies to requests carrying `continue`. */
export interface QueuedKubeFault {
  fault: KubernetesFault;
  onlyWithContinue: boolean;
}

/** Everything a running Kubernetes simulator keeps, shared by its request handler and its handle. */
export interface KubernetesSimulatorState {
  /** The accepted bearer token. */
  token: string;
  /** Set in forbidden mode: list/get answer 403. */
  forbidden: ForbiddenMode | undefined;
  readonly services: KubeServiceStore;
  readonly snapshots: ListSnapshots;
  readonly faults: FaultQueue<QueuedKubeFault>;
  readonly requests: RecordedKubeRequest[];
  /** Pending answers delayed by a latency fault (cleared on stop). */
  readonly timers: Set<NodeJS.Timeout>;
}
