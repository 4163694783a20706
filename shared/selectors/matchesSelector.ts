import { parseInt64 } from './parseInt64.js';
import type { LabelSelector, SelectorRequirement } from './parseLabelSelector.js';

/** `>`/`<` as `labels.Requirement.Matches` does it: the label's value must parse as a 64-bit integer. */
function comparesAsInteger(r: SelectorRequirement, value: string | undefined): boolean {
  const n = value === undefined ? undefined : parseInt64(value);
  const bound = parseInt64(r.values[0] ?? '');
  if (n === undefined || bound === undefined) return false;
  return r.operator === '>' ? n > bound : n < bound;
}

/**
 * Whether `labels` satisfy every requirement of `selector` (Kubernetes semantics): `!=` and
 * `notin` also match when the key is absent; `>` and `<` match only when the key is present and its
 * value is a decimal 64-bit integer (`shared/selectors/parseInt64.ts`) above or below the bound;
 * the empty selector matches everything, including a Service without labels. Only own properties
 * of `labels` count.
 */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const r of selector.requirements) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    let ok: boolean;
    switch (r.operator) {
      case 'exists':
        ok = has;
        break;
      case 'doesnotexist':
        ok = !has;
        break;
      case '=':
        ok = has && value === r.values[0];
        break;
      case '!=':
        ok = !has || value !== r.values[0];
        break;
      case 'in':
        ok = has && r.values.includes(value as string);
        break;
      case 'notin':
        ok = !has || !r.values.includes(value as string);
        break;
      case '>':
      case '<':
        ok = comparesAsInteger(r, value);
        break;
    }
    if (!ok) return false;
  }
  return true;
}
