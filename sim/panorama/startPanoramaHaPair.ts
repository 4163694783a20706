import { randomBytes } from 'node:crypto';
import { PanoramaModel } from './PanoramaModel.js';
import type { SimHaRole } from './panoramaHa.js';
import {
  type PanoramaSimulator,
  type PanoramaSimulatorOptions,
  startPanoramaSimulator,
} from './startPanoramaSimulator.js';

/** The two peers of a simulated Panorama HA pair. */
export type HaPeerName = 'primary' | 'secondary';

/** A running Panorama HA pair: two simulators over one model (the same managed firewalls). */
export interface PanoramaHaPair {
  /** The primary peer (starts active). */
  readonly primary: PanoramaSimulator;
  /** The secondary peer (starts passive). */
  readonly secondary: PanoramaSimulator;
  /** `PANORAMA_URL` of the pair: `<primary>,<secondary>`. */
  readonly url: string;
  /** The API key both peers accept (the configuration is synchronised). */
  readonly apiKey: string;
  readonly username: string;
  readonly password: string;
  /** The firewalls and registered-IP tables both peers manage. */
  readonly model: PanoramaModel;
  /** The peer that reports itself active now (`undefined` when none does). */
  active(): HaPeerName | undefined;
  /** Swaps the roles: the active peer becomes passive and the passive one active (a manual failover). */
  failover(): void;
  /** Sets both roles (e.g. both passive during a transition). */
  setRoles(primary: SimHaRole, secondary: SimHaRole): void;
  /** Stops one peer's server (connections refused from now on); the other becomes active, as HA promotes it. */
  crash(peer: HaPeerName): Promise<void>;
  /**
   * Takes one peer down without stopping its server: every call to it is dropped (the connection
   * closes without an answer, nothing applied) and the other becomes active. {@link restore} undoes it.
   */
  goDown(peer: HaPeerName): void;
  /** Both peers up without faults, the primary active and the secondary passive (not after {@link crash}). */
  restore(): void;
  /** Stops both servers (a crashed one is skipped). */
  stop(): Promise<void>;
}

/** Options of {@link startPanoramaHaPair}: those of each simulator, except what the pair decides. */
export type PanoramaHaPairOptions = Omit<PanoramaSimulatorOptions, 'model' | 'ha' | 'port'>;

/**
 * Starts a simulated Panorama HA pair on 127.0.0.1: a primary (active) and a secondary (passive)
 * Panorama simulator with the same credentials, serving one {@link PanoramaModel}, each answering
 * `show high-availability state` for itself (`sim/panorama/panoramaHa.ts` says which texts are
 * captured and which assumed) and refusing `type=user-id` while not active (assumed).
 *
 * @example
 * const pair = await startPanoramaHaPair({ deviceGroups: { 'dg-1': [{ serial: '0001' }] } });
 * // … new PanoramaClient({ url: pair.url, apiKey: pair.apiKey, … })
 * pair.failover(); // the secondary is active now
 * await pair.stop();
 */
export async function startPanoramaHaPair(options: PanoramaHaPairOptions = {}): Promise<PanoramaHaPair> {
  const shared = {
    ...options,
    apiKey: options.apiKey ?? randomBytes(30).toString('base64'),
    username: options.username ?? 'admin',
    password: options.password ?? randomBytes(12).toString('base64'),
    model: new PanoramaModel(options.duplicateMode ?? 'error'),
  };
  const primary = await startPanoramaSimulator({ ...shared, ha: { priority: 'primary', role: 'active' } });
  const secondary = await startPanoramaSimulator({
    ...shared,
    deviceGroups: {},
    ha: { priority: 'secondary', role: 'passive' },
  });
  return haPairHandle(primary, secondary, shared);
}

function haPairHandle(
  primary: PanoramaSimulator,
  secondary: PanoramaSimulator,
  shared: { apiKey: string; username: string; password: string; model: PanoramaModel },
): PanoramaHaPair {
  const crashed = new Set<HaPeerName>();
  const peers = { primary, secondary };
  const setRoles = (a: SimHaRole, b: SimHaRole, links = { primary: true, secondary: true }) => {
    primary.setHa({ priority: 'primary', role: a, peer: { role: b, connected: links.secondary } });
    secondary.setHa({ priority: 'secondary', role: b, peer: { role: a, connected: links.primary } });
  };
  return {
    primary,
    secondary,
    url: `${primary.url},${secondary.url}`,
    ...shared,
    active: () => (['primary', 'secondary'] as const).find((p) => peers[p].ha?.role === 'active'),
    failover: () => {
      const primaryActive = primary.ha?.role === 'active';
      setRoles(primaryActive ? 'passive' : 'active', primaryActive ? 'active' : 'passive');
    },
    setRoles: (a, b) => setRoles(a, b),
    crash: async (peer) => {
      crashed.add(peer);
      await peers[peer].stop();
      const up = { primary: !crashed.has('primary'), secondary: !crashed.has('secondary') };
      if (peer === 'primary') setRoles('non-functional', 'active', up);
      else setRoles('active', 'non-functional', up);
    },
    goDown: (peer) => {
      peers[peer].setFaults({ errorRate: 1, errorFaults: ['drop'] });
      const up = { primary: peer !== 'primary', secondary: peer !== 'secondary' };
      if (peer === 'primary') setRoles('non-functional', 'active', up);
      else setRoles('active', 'non-functional', up);
    },
    restore: () => {
      if (crashed.size > 0) throw new Error('simulator: a crashed peer cannot be restored');
      for (const p of [primary, secondary]) p.clearFaults();
      setRoles('active', 'passive');
    },
    stop: async () => {
      for (const p of ['primary', 'secondary'] as const) if (!crashed.has(p)) await peers[p].stop();
    },
  };
}
