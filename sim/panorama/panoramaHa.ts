import { SHOW_HA_STATE_COMMAND } from '../../shared/panorama/haState.js';
import { errorAnswer, type SimAnswer, xmlResponse } from './PanoramaModel.js';
import type { PanoramaRequest } from './readPanoramaRequest.js';

/** A simulated Panorama's HA role; with its priority it makes the reported state, e.g. `primary-active`. */
export type SimHaRole = 'active' | 'passive' | 'suspended' | 'non-functional' | 'initial';

/** HA settings of one simulated Panorama (absent = HA not enabled). */
export interface SimHaSettings {
  priority: 'primary' | 'secondary';
  role: SimHaRole;
  /** The other peer as this one sees it (default: the other priority, the opposite role, connected). */
  peer?: { role: SimHaRole; connected: boolean };
}

/** The HA state a simulator keeps: its settings and when its role last changed (ms clock). */
export interface SimHa extends SimHaSettings {
  since: number;
}

/**
 * The answer a passive (or otherwise not active) simulated Panorama gives to `type=user-id`.
 * **Assumed**: what a passive Panorama answers is not documented anywhere we found
 * (`panos-xml-api.md`, "Panorama HA"), so the client must not depend on this text.
 */
export const PASSIVE_USER_ID_TEXT = 'User-ID request rejected: this Panorama is not the active HA peer';

function stateText(priority: SimHaSettings['priority'], role: SimHaRole): string {
  return role === 'initial' ? 'initial' : `${priority}-${role}`;
}

function otherPriority(priority: SimHaSettings['priority']): SimHaSettings['priority'] {
  return priority === 'primary' ? 'secondary' : 'primary';
}

/**
 * The body of `show high-availability state`. HA off: `<enabled>no</enabled>` as in XSOAR's captured
 * `show_ha_state_disabled.xml`. HA on: the element names and nesting of XSOAR's captured
 * `show_ha_state_panorama_enabled.xml` (`enabled`, `local-info`/`peer-info` with `state`,
 * `priority`, `state-duration`, `mgmt-ip`, `conn-status`, `running-sync`), a subset of its
 * elements, with our values. The texts `primary-active` and `secondary-passive` are captured;
 * `primary-passive`, `secondary-active`, `…-suspended`, `…-non-functional` and `initial` are
 * **assumed** by symmetry (`primary-non-functional` and `secondary-suspended` appear in captures
 * only as `last-error-state`).
 */
export function haStateBody(ha: SimHa | undefined, now: number): string {
  if (!ha)
    return xmlResponse('success', { result: { enabled: 'no', 'local-info': { 'encrypt-imported': 'no' } } });
  const duration = String(Math.max(0, Math.floor((now - ha.since) / 1000)));
  const peer = ha.peer ?? { role: ha.role === 'active' ? 'passive' : 'active', connected: true };
  const local = {
    version: '1',
    state: stateText(ha.priority, ha.role),
    'state-duration': duration,
    'mgmt-ip': '127.0.0.1/8',
    preemptive: 'no',
    priority: ha.priority,
  };
  const remote = {
    'conn-status': peer.connected ? 'up' : 'down',
    state: peer.connected ? stateText(otherPriority(ha.priority), peer.role) : 'unknown',
    'mgmt-ip': '127.0.0.1',
    priority: otherPriority(ha.priority),
    version: '1',
  };
  const result = {
    enabled: 'yes',
    'local-info': local,
    'peer-info': remote,
    'running-sync': 'synchronized',
    'running-sync-enabled': 'yes',
  };
  return xmlResponse('success', { result });
}

function isHaStateCommand(cmd: string | null): boolean {
  return (cmd ?? '').replace(/\s+/g, '') === SHOW_HA_STATE_COMMAND;
}

/**
 * The HA part of the simulated API, after the key was checked: `show high-availability state`
 * (always answered), and the **assumed** refusal of `type=user-id` by a peer that is not active
 * (HTTP 200, `status="error"`, {@link PASSIVE_USER_ID_TEXT}). Other calls: `undefined` (served as usual;
 * that a passive Panorama answers `type=op` reads is assumed too).
 */
export function answerHaCall(
  ha: SimHa | undefined,
  request: PanoramaRequest,
  now: number,
): SimAnswer | undefined {
  if (request.type === 'op' && isHaStateCommand(request.params.get('cmd'))) {
    return { status: 200, body: haStateBody(ha, now) };
  }
  if (ha && ha.role !== 'active' && request.type === 'user-id') return errorAnswer(PASSIVE_USER_ID_TEXT);
  return undefined;
}
