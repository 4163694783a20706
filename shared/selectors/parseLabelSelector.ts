// PLACEHOLDER — to be replaced by the full Kubernetes label-selector implementation.
import { InputError } from '../errors.js';

/** One requirement of a label selector. */
export interface SelectorRequirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | 'doesnotexist';
  values: string[];
}

/** A parsed Kubernetes label selector: all requirements must hold (comma = AND). */
export interface LabelSelector {
  requirements: SelectorRequirement[];
}

/** Parses a Kubernetes label selector string; throws {@link InputError} naming the problem. */
export function parseLabelSelector(text: string): LabelSelector {
  if (text.trim() === '') throw new InputError('empty selector');
  return { requirements: [] };
}
