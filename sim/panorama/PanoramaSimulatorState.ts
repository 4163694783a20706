import type { PanoramaFaults } from './PanoramaFaults.js';
import type { PanoramaModel } from './PanoramaModel.js';
import type { SimHa } from './panoramaHa.js';
import type { SimCall, SimStats } from './startPanoramaSimulator.js';

/** Everything a running Panorama simulator keeps, shared by its request listener and its handle. */
export interface PanoramaSimulatorState {
  readonly model: PanoramaModel;
  /** Credentials accepted by `type=keygen`. */
  readonly username: string;
  readonly password: string;
  /** The currently valid API key. */
  apiKey: string;
  /** Largest accepted request body. */
  readonly maxRequestBytes: number;
  /** Whether each call is kept in `calls` (stats are always kept). */
  readonly recordCalls: boolean;
  readonly faults: PanoramaFaults;
  readonly calls: SimCall[];
  readonly stats: SimStats;
  /** Sequence number of the last call received. */
  seq: number;
  /** HA state of this Panorama (absent = HA not enabled). */
  ha?: SimHa;
}
