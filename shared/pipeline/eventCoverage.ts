/** How changes of a cluster reach the service. */
export interface EventCoverage {
  /**
   * `events`: ARM events of its subscription reach `onResourceEvent` (and the timer reconciles);
   * `timer-only`: only the reconcile timer syncs it; `unknown`: `EVENT_GRID_SUBSCRIPTIONS` is unset.
   */
  mode: 'events' | 'timer-only' | 'unknown';
  /** Why a cluster is timer-only, in words an operator can act on. */
  reason?: string;
}

/**
 * Whether a cluster's changes arrive as events or only with the reconcile timer, from
 * `EVENT_GRID_SUBSCRIPTIONS` (see `loadEventGridSubscriptions` in shared/config). A cluster without
 * `subscriptionId` and `resourceGroup` can never be matched to an event; one in a subscription
 * without an event subscription (before phase two, or listed in the template's
 * timerOnlySubscriptions) waits for the timer. `status` shows this per cluster.
 */
export function eventCoverage(
  cluster: { subscriptionId?: string; resourceGroup?: string },
  eventGridSubscriptions: readonly string[] | undefined,
): EventCoverage {
  if (!cluster.subscriptionId || !cluster.resourceGroup) {
    return {
      mode: 'timer-only',
      reason: 'no subscriptionId and resourceGroup in CLUSTERS, so no ARM event can be matched to it',
    };
  }
  if (eventGridSubscriptions === undefined) return { mode: 'unknown' };
  if (eventGridSubscriptions.includes(cluster.subscriptionId.toLowerCase())) return { mode: 'events' };
  return {
    mode: 'timer-only',
    reason:
      eventGridSubscriptions.length === 0
        ? 'no Event Grid subscription yet (phase two of the deployment has not run)'
        : `subscription ${cluster.subscriptionId} has no Event Grid subscription (docs/deploy.md, "Events from every subscription")`,
  };
}

/**
 * {@link eventCoverage} of each cluster, keyed by its name in lower case (as `collectStatus` keys
 * clusters), for `status` to show next to each one.
 */
export function eventCoverageByCluster(
  clusters: readonly { name: string; subscriptionId?: string; resourceGroup?: string }[],
  eventGridSubscriptions: readonly string[] | undefined,
): Record<string, EventCoverage> {
  return Object.fromEntries(
    clusters.map((c) => [c.name.toLowerCase(), eventCoverage(c, eventGridSubscriptions)]),
  );
}
