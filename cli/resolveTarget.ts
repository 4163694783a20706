import { InputError } from '../shared/errors.js';
import type { PipelineDeps } from '../shared/pipeline/PipelineDeps.js';
import { type KnownTarget, listKnownTargets, matchTarget } from '../shared/pipeline/targetHoldings.js';

const listed = (targets: readonly KnownTarget[]) =>
  targets.map((t) => (t.hostname ? `${t.target} (${t.hostname})` : t.target)).join(', ');

/** `--target TEXT` as a target id, or the one target whose recorded hostname it is (InputError otherwise). */
export async function resolveTarget(deps: PipelineDeps, text: string): Promise<KnownTarget> {
  if (text.trim() === '')
    throw new InputError(
      "--target needs a target id (a serial, SERIAL:vsysN or panorama) or a firewall's hostname",
    );
  const match = matchTarget(text, await listKnownTargets(deps));
  if (match.kind === 'target') return match;
  if (match.kind === 'ambiguous')
    throw new InputError(
      `--target: hostname ${JSON.stringify(text)} names ${match.candidates.length} targets: ${listed(match.candidates)}; give one of these target ids`,
    );
  const known =
    match.known.length > 0 ? `known targets: ${listed(match.known)}` : 'no target has a recorded status yet';
  throw new InputError(
    `--target: ${JSON.stringify(text)} is neither a target id (a serial, SERIAL:vsysN or panorama) nor the hostname of a known target (${known})`,
  );
}
