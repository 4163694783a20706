import { randomBytes, randomUUID } from 'node:crypto';
import type { ArmClusterInput } from './startArmSimulator.js';

/** A served managed cluster: its input with defaults applied, and what ARM assigned to it. */
export interface StoredArmCluster {
  input: ArmClusterInput & { location: string; nodeResourceGroup: string };
  id: string;
  fqdn: string;
  principalId: string;
}

/** The subscriptions and managed clusters of the ARM simulator, keyed case-insensitively. */
export class ArmClusterStore {
  readonly #subscriptions: Set<string>;
  readonly #clusters = new Map<string, StoredArmCluster>();

  constructor(subscriptions: readonly string[]) {
    this.#subscriptions = new Set(subscriptions.map((s) => s.toLowerCase()));
  }

  /** Adds (or replaces) a cluster; its subscription then exists. */
  add(input: ArmClusterInput): StoredArmCluster {
    const location = input.location ?? 'westeurope';
    const id = `/subscriptions/${input.subscriptionId}/resourcegroups/${input.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${input.name}`;
    const stored: StoredArmCluster = {
      input: {
        ...input,
        location,
        nodeResourceGroup: input.nodeResourceGroup ?? `MC_${input.resourceGroup}_${input.name}_${location}`,
      },
      id,
      fqdn: `${input.name}-dns-${randomBytes(4).toString('hex')}.hcp.${location}.azmk8s.io`,
      principalId: randomUUID(),
    };
    this.#subscriptions.add(input.subscriptionId.toLowerCase());
    this.#clusters.set(id.toLowerCase(), stored);
    return stored;
  }

  /** Removes a cluster by resource ID (its subscription stays); returns whether it existed. */
  remove(resourceId: string): boolean {
    return this.#clusters.delete(resourceId.toLowerCase());
  }

  /** The cluster with this resource ID; throws when there is none. */
  mustFind(resourceId: string): StoredArmCluster {
    const found = this.#clusters.get(resourceId.toLowerCase());
    if (!found) throw new Error(`simulator: no cluster ${resourceId}`);
    return found;
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.#subscriptions.has(subscriptionId.toLowerCase());
  }

  /** The clusters of a subscription, in the order they were added. */
  inSubscription(subscriptionId: string): StoredArmCluster[] {
    const sub = subscriptionId.toLowerCase();
    return this.all().filter((c) => c.input.subscriptionId.toLowerCase() === sub);
  }

  /** Every cluster, in the order they were added. */
  all(): StoredArmCluster[] {
    return [...this.#clusters.values()];
  }
}
