/**
 * A limit on the HTTP calls in flight to one Panorama. `PanoramaClient` runs every HTTP request it
 * sends (keygen, user-id chunks, registered-ip pages, retries) inside {@link CallPermits.withPermit}
 * when one is given; `SharedCallLimit` (`shared/panorama/SharedCallLimit.ts`) shares the limit
 * across every instance of the app through Table Storage.
 */
export interface CallPermits {
  /**
   * Runs `call` holding one permit and settles with its result; the permit is given back once `call`
   * settles, whatever the outcome.
   */
  withPermit<T>(call: () => Promise<T>): Promise<T>;
}
