import type { StoredArmCluster } from './ArmClusterStore.js';
import type { ArmSimulatorState } from './ArmSimulatorState.js';
import { armClusterJson } from './armClusterJson.js';

/** The list request a page answers. */
export interface ArmListRequest {
  path: string;
  query: URLSearchParams;
  apiVersion: string;
}

/** One page of a list operation, `{ value, nextLink? }`, positioned by `$skipToken`. */
export function armListPage(
  all: readonly StoredArmCluster[],
  request: ArmListRequest,
  state: Pick<ArmSimulatorState, 'pageSize' | 'url' | 'tenantId'>,
): Record<string, unknown> {
  const { pageSize } = state;
  const skip = Number(request.query.get('$skipToken') ?? '0');
  const start = Number.isInteger(skip) && skip > 0 ? skip : 0;
  const page = all.slice(start, start + pageSize);
  const next = start + pageSize;
  return {
    value: page.map((c) => armClusterJson(c, state.tenantId)),
    ...(next < all.length
      ? {
          nextLink: `${state.url}${request.path}?api-version=${encodeURIComponent(request.apiVersion)}&%24skipToken=${next}`,
        }
      : {}),
  };
}
