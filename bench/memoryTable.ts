import type { TableClient } from '@azure/data-tables';

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

const notFound = () => Object.assign(new Error('ResourceNotFound'), { statusCode: 404 });
const conflict = () => Object.assign(new Error('EntityAlreadyExists'), { statusCode: 409 });
const preconditionFailed = () => Object.assign(new Error('UpdateConditionNotSatisfied'), { statusCode: 412 });

type Clause = { field: string; op: string; value: string };

/** Parses the filters the state store sends: `Field op 'value'` clauses joined by `and`. */
function parseFilter(filter: string | undefined): Clause[] {
  if (!filter) return [];
  return filter.split(' and ').map((part) => {
    const m = /^\s*(\w+) (eq|ne|ge|le|gt|lt) '((?:[^']|'')*)'\s*$/.exec(part);
    if (!m) throw new Error(`memory table: unsupported filter ${filter}`);
    return { field: m[1] as string, op: m[2] as string, value: (m[3] as string).replace(/''/g, "'") };
  });
}

function matches(e: Entity, clauses: readonly Clause[]): boolean {
  for (const c of clauses) {
    const key = c.field === 'PartitionKey' ? 'partitionKey' : c.field === 'RowKey' ? 'rowKey' : c.field;
    const v = String(e[key] ?? '');
    const ok =
      c.op === 'eq'
        ? v === c.value
        : c.op === 'ne'
          ? v !== c.value
          : c.op === 'ge'
            ? v >= c.value
            : c.op === 'le'
              ? v <= c.value
              : c.op === 'gt'
                ? v > c.value
                : v < c.value;
    if (!ok) return false;
  }
  return true;
}

/**
 * An in-process stand-in for the few `TableClient` calls `ClusterStateStore` makes (get, list with
 * `eq/ne/ge/le` filters, create, ETag-conditional replace, upsert, delete, transactions), with the
 * service's status codes (404, 409, 412). Only for the 50,000-Service benchmark: Azurite's table
 * store slows down with every row of a partition (measured on this machine: the first 10,000 rows
 * of one partition in ~12 s, the next 10,000 in ~54 s, the next in ~190 s), so 54,000 rows of one
 * cluster cannot be written through it in the time a benchmark run has.
 */
export class MemoryTable {
  readonly #rows = new Map<string, Entity & { etag: string }>();
  #etag = 0;

  #key(pk: string, rk: string): string {
    return `${pk}\u0000${rk}`;
  }

  #put(e: Entity): string {
    const etag = `W/"${++this.#etag}"`;
    this.#rows.set(this.#key(e.partitionKey, e.rowKey), { ...e, etag });
    return etag;
  }

  /** Number of stored entities. */
  get size(): number {
    return this.#rows.size;
  }

  /** This object typed as the SDK client the state store expects. */
  asTableClient(): TableClient {
    const self = this;
    const client = {
      async createTable() {},
      async getEntity(pk: string, rk: string) {
        const e = self.#rows.get(self.#key(pk, rk));
        if (!e) throw notFound();
        return { ...e };
      },
      listEntities(options?: { queryOptions?: { filter?: string } }) {
        const clauses = parseFilter(options?.queryOptions?.filter);
        const rows = [...self.#rows.values()]
          .filter((e) => matches(e, clauses))
          .sort((a, b) =>
            a.partitionKey === b.partitionKey
              ? a.rowKey < b.rowKey
                ? -1
                : 1
              : a.partitionKey < b.partitionKey
                ? -1
                : 1,
          );
        return (async function* () {
          for (const e of rows) yield { ...e };
        })();
      },
      async createEntity(e: Entity) {
        if (self.#rows.has(self.#key(e.partitionKey, e.rowKey))) throw conflict();
        return { etag: self.#put(e) };
      },
      async updateEntity(e: Entity, _mode: string, options?: { etag?: string }) {
        const old = self.#rows.get(self.#key(e.partitionKey, e.rowKey));
        if (!old) throw notFound();
        if (options?.etag && options.etag !== '*' && options.etag !== old.etag) throw preconditionFailed();
        return { etag: self.#put(e) };
      },
      async upsertEntity(e: Entity) {
        return { etag: self.#put(e) };
      },
      async deleteEntity(pk: string, rk: string) {
        if (!self.#rows.delete(self.#key(pk, rk))) throw notFound();
        return {};
      },
      async submitTransaction(actions: [string, Entity, ...unknown[]][]) {
        for (const [op, e] of actions) {
          const exists = self.#rows.has(self.#key(e.partitionKey, e.rowKey));
          if ((op === 'delete' || op === 'update') && !exists) throw notFound();
          if (op === 'create' && self.#rows.has(self.#key(e.partitionKey, e.rowKey))) throw conflict();
        }
        for (const [op, e] of actions) {
          if (op === 'delete') self.#rows.delete(self.#key(e.partitionKey, e.rowKey));
          else self.#put(e);
        }
        return { status: 202 };
      },
    };
    return client as unknown as TableClient;
  }
}
