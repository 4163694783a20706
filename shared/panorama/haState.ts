import { asNode, type PanResponse, textOf } from './parsePanResponse.js';

/** The op command that reports a Panorama's own HA state (`panos-xml-api.md`, "Panorama HA"). */
export const SHOW_HA_STATE_COMMAND = '<show><high-availability><state></state></high-availability></show>';

/**
 * What one peer of a Panorama HA pair looks like to the client:
 * - `active`: HA enabled and the local state ends in `active` (`primary-active`, `secondary-active`);
 * - `passive`: the local state ends in `passive`;
 * - `standalone`: HA is not enabled on it (`<enabled>no</enabled>`);
 * - `not-ready`: any other local state (`initial`, `…-suspended`, `…-non-functional`, missing);
 * - `unreachable`: the question itself failed (transport, HTTP error, refused key, not a PAN-OS answer).
 */
export type PeerRole = 'active' | 'passive' | 'standalone' | 'not-ready' | 'unreachable';

/** One peer's answer to {@link SHOW_HA_STATE_COMMAND} (or why there was none). */
export interface PeerObservation {
  role: PeerRole;
  /** `result/local-info/state` as sent, e.g. `primary-active`. */
  state?: string;
  /** `result/local-info/state-duration`: seconds the peer has been in `state`. */
  stateDurationSeconds?: number;
  /** Why the peer is `unreachable` (an error message, already free of secrets). */
  reason?: string;
}

function roleOfState(state: string | undefined): PeerRole {
  const s = (state ?? '').trim().toLowerCase();
  if (/(^|-)active$/.test(s)) return 'active';
  if (/(^|-)passive$/.test(s)) return 'passive';
  return 'not-ready';
}

/**
 * Reads a `show high-availability state` answer of Panorama: `result/enabled`, then
 * `result/local-info/state` and `state-duration` (the shape of XSOAR's
 * `show_ha_state_panorama_enabled.xml` / `show_ha_state_disabled.xml`; a firewall nests the same
 * under `result/group`, which is accepted too).
 */
export function parseHaState(response: PanResponse): PeerObservation {
  const result = asNode(response.result);
  const holder = asNode(result?.group) ?? result;
  const enabled = textOf(result?.enabled ?? holder?.enabled)
    ?.trim()
    .toLowerCase();
  if (enabled !== 'yes') return { role: 'standalone' };
  const local = asNode(holder?.['local-info']);
  const state = textOf(local?.state)?.trim();
  const duration = Number(textOf(local?.['state-duration']));
  return {
    role: roleOfState(state),
    ...(state ? { state } : {}),
    ...(Number.isFinite(duration) && duration >= 0 ? { stateDurationSeconds: duration } : {}),
  };
}

const RANK: Record<PeerRole, number> = {
  active: 0,
  standalone: 1,
  passive: 9,
  'not-ready': 9,
  unreachable: 9,
};

/**
 * The index of the peer to send everything to, or `undefined` when none may be used: the first
 * `active` peer, else the first `standalone` one (HA not enabled there); never a passive,
 * not-ready or unreachable peer.
 */
export function choosePeer(observations: readonly PeerObservation[]): number | undefined {
  let best: number | undefined;
  observations.forEach((o, i) => {
    const rank = RANK[o.role];
    if (rank < 9 && (best === undefined || rank < RANK[observations[best]?.role ?? 'unreachable'])) best = i;
  });
  return best;
}

/** One line per peer for messages: `https://a: passive (secondary-passive)`, `https://b: unreachable (…)`. */
export function describeObservations(
  urls: readonly string[],
  observations: readonly PeerObservation[],
): string {
  return urls
    .map((url, i) => {
      const o = observations[i];
      if (!o) return `${url}: not asked`;
      const detail = o.role === 'unreachable' ? o.reason : o.state;
      return `${url}: ${o.role}${detail ? ` (${detail})` : ''}`;
    })
    .join('; ');
}
