import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { serviceKey, serviceKeyOf } from './serviceKey.js';

/** The Services of the simulated cluster and its resourceVersion, bumped by every change. */
export class KubeServiceStore {
  #rv: number;
  readonly #services = new Map<string, KubeService>();

  constructor(initialResourceVersion: number) {
    this.#rv = initialResourceVersion;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Stores a copy of `service` (namespace `default` when unset) at a new resourceVersion; returns a copy. */
  put(service: KubeService): KubeService {
    this.#rv += 1;
    const copy = structuredClone(service);
    copy.metadata = {
      ...copy.metadata,
      namespace: copy.metadata?.namespace ?? 'default',
      resourceVersion: String(this.#rv),
    };
    delete copy.kind;
    delete copy.apiVersion;
    this.#services.set(serviceKey(copy), copy);
    return structuredClone(copy);
  }

  /** The stored Service itself (not a copy; stored Services are replaced, never changed). */
  find(namespace: string, name: string): KubeService | undefined {
    return this.#services.get(serviceKeyOf(namespace, name));
  }

  /** The stored Services in etcd key order (namespace, then name). */
  sorted(): KubeService[] {
    return [...this.#services.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  }

  /** Replaces a Service with `update(copy)` (or the copy when it returns nothing); throws when absent. */
  update(
    namespace: string,
    name: string,
    update: (service: KubeService) => KubeService | undefined,
  ): KubeService {
    const found = this.find(namespace, name);
    if (!found) throw new Error(`simulator: service ${namespace}/${name} does not exist`);
    const current = structuredClone(found);
    const next = update(current) ?? current;
    return this.put({ ...next, metadata: { ...next.metadata, namespace, name } });
  }

  /** Deletes a Service (a new resourceVersion when it existed); returns whether it existed. */
  delete(namespace: string, name: string): boolean {
    const existed = this.#services.delete(serviceKeyOf(namespace, name));
    if (existed) this.#rv += 1;
    return existed;
  }
}
