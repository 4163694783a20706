import type { QueueStep } from '../queues/QueueStep.js';
import { DELTA_QUEUE, RECOMPUTE_QUEUE } from '../queues/queueNames.js';
import {
  type DeltaMessage,
  parseDeltaMessage,
  parseRecomputeMessage,
  type RecomputeMessage,
} from './messages.js';
import type { PipelineDeps } from './PipelineDeps.js';
import { type PushOutcome, pushTagDeltas } from './pushTagDeltas.js';
import { type RecomputeOutcome, recomputeCluster } from './recomputeCluster.js';

/** `cluster-recompute`: recompute one cluster. */
export const RECOMPUTE_STEP: QueueStep<RecomputeMessage, RecomputeOutcome, PipelineDeps> = {
  queue: RECOMPUTE_QUEUE,
  parse: parseRecomputeMessage,
  run: (message, deps) => recomputeCluster(message, deps),
};

/** `tag-deltas`: push one delta message to its target. */
export const PUSH_STEP: QueueStep<DeltaMessage, PushOutcome, PipelineDeps> = {
  queue: DELTA_QUEUE,
  parse: parseDeltaMessage,
  run: pushTagDeltas,
};
