import { defineTimerFunction } from '../shared/functionSpecs.js';
import { handleReconcileTimer } from '../shared/pipeline/handleReconcileTimer.js';
import { getRuntime, withLogger } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** Every `RECONCILE_SCHEDULE` (default 5 minutes): recompute every cluster, audit targets when due. */
export const reconcileTimer = defineTimerFunction({
  name: 'reconcileTimer',
  schedule: '%RECONCILE_SCHEDULE%',
  runOnStartup: false,
  handler: async (_timer, context) => {
    await handleReconcileTimer(withLogger(getRuntime().deps, invocationLogger(context)));
  },
});
