/** The page sizes `bench/harvestChild.ts` measures by default. */
export const PAGE_SIZES = [250, 500, 1000, 2000] as const;

/** What `bench/harvestChild.ts` prints (medians per page size, and client-node's list at 500). */
export interface HarvestChildResult {
  pageSizes: {
    pageSize: number;
    floorMs: number;
    leanMs: number;
    /** CPU time of this process (user + system), less sensitive than wall time to a busy machine. */
    floorCpuMs: number;
    leanCpuMs: number;
    floorMB: number;
  }[];
  clientNodeMs: number;
  clientNodeCpuMs: number;
  clientNodePageSize: number;
}
