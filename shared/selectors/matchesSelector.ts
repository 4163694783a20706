import type { LabelSelector } from './parseLabelSelector.js';

/**
 * Whether `labels` satisfy every requirement of `selector` (Kubernetes semantics): `!=` and
 * `notin` also match when the key is absent; the empty selector matches everything, including a
 * Service without labels. Only own properties of `labels` count.
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
    }
    if (!ok) return false;
  }
  return true;
}
