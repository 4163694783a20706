/** Types of `proxy-from-env` 2.1.0, which ships none (its `index.js` exports `getProxyForUrl`). */
declare module 'proxy-from-env' {
  /**
   * The proxy URL for `url` from `<scheme>_PROXY` / `ALL_PROXY` (either case) unless `NO_PROXY`
   * matches its host (and port); `''` when none applies.
   */
  export function getProxyForUrl(url: string | URL): string;
}
