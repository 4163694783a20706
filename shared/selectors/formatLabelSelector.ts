import type { LabelSelector, SelectorRequirement } from './parseLabelSelector.js';

function formatRequirement(r: SelectorRequirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case 'doesnotexist':
      return `!${r.key}`;
    case '=':
      return `${r.key}=${r.values[0] ?? ''}`;
    case '!=':
      return `${r.key}!=${r.values[0] ?? ''}`;
    case '>':
    case '<':
      return `${r.key}${r.operator}${r.values[0] ?? ''}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`;
  }
}

/**
 * The canonical text of a selector: requirements in their order joined by `,` without spaces,
 * `k=v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>n`, `k<n`. For any parsed selector `s`,
 * `parseLabelSelector(formatLabelSelector(s))` equals `s`; the empty selector formats as `""`.
 *
 * @example formatLabelSelector(parseLabelSelector('tier in ( b , a ),app==web')) // "app=web,tier in (a,b)"
 */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector.requirements.map(formatRequirement).join(',');
}
