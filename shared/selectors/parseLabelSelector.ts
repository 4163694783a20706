import { InputError } from '../errors.js';
import { checkLabelKey, checkLabelValue } from './checkLabelSyntax.js';
import { parseInt64 } from './parseInt64.js';

/**
 * Operator of one requirement. `k=v` and `k==v` both parse to `'='`; `k` is `'exists'`, `!k` is
 * `'doesnotexist'`; `k>n` and `k<n` compare integers.
 */
export type SelectorOperator = '=' | '!=' | 'in' | 'notin' | 'exists' | 'doesnotexist' | '>' | '<';

/**
 * One requirement of a label selector. `values` holds exactly one value for `=`/`!=`/`>`/`<` (for
 * `>`/`<` a decimal 64-bit integer as written), one or more (unique, sorted) for `in`/`notin`, and
 * none for `exists`/`doesnotexist`.
 */
export interface SelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

/**
 * A parsed Kubernetes label selector: every requirement must hold (comma = AND). Requirements are
 * sorted by key (stable), as Kubernetes sorts them; no requirement matches everything.
 */
export interface LabelSelector {
  requirements: SelectorRequirement[];
}

type TokenKind = 'ident' | '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | ',' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based character position in the selector. */
  at: number;
}

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const SPECIAL = new Set(['=', '!', '(', ')', ',', '<', '>']);

function fail(message: string, selector: string, at?: number): never {
  throw new InputError(at === undefined ? message : `${message} (at position ${at})`, {
    selector,
    ...(at === undefined ? {} : { position: at }),
  });
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (WHITESPACE.has(c)) {
      i++;
      continue;
    }
    const at = i + 1;
    const next = text[i + 1];
    if (c === '=' || c === '!') {
      const two = next === '=' ? `${c}=` : undefined;
      tokens.push({ kind: (two ?? c) as TokenKind, text: two ?? c, at });
      i += two ? 2 : 1;
    } else if (c === '(' || c === ')' || c === ',' || c === '<' || c === '>') {
      tokens.push({ kind: c, text: c, at });
      i++;
    } else {
      let j = i + 1;
      while (j < text.length && !WHITESPACE.has(text[j] as string) && !SPECIAL.has(text[j] as string)) j++;
      tokens.push({ kind: 'ident', text: text.slice(i, j), at });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: 'end of selector', at: text.length + 1 });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the selector' : `"${token.text}"`;
}

/**
 * Parses a Kubernetes label selector, with the grammar and validation of `labels.Parse`:
 * `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>n`, `k<n`, joined by commas
 * (AND); whitespace around tokens is ignored; an empty or blank string is the empty selector
 * (matches everything). Keys and values are validated as Kubernetes label keys and values; the
 * value of `>` and `<` must also be a decimal 64-bit integer (`parseInt64`), so `k>-1` fails as an
 * invalid label value and `k>` as a missing integer.
 *
 * @throws InputError naming the offending part and its position.
 * @example parseLabelSelector('app=web, tier in (front,edge), !canary')
 */
export function parseLabelSelector(text: string): LabelSelector {
  return new SelectorParser(text).parse();
}

/** A recursive-descent parser over the tokens of one selector text; every failure names its position. */
class SelectorParser {
  readonly #text: string;
  readonly #tokens: Token[];
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  parse(): LabelSelector {
    const requirements: SelectorRequirement[] = [];
    if (this.#peek().kind === 'end') return { requirements };
    for (;;) {
      requirements.push(this.#requirement());
      const t = this.#take();
      if (t.kind === 'end') break;
      if (t.kind !== ',') this.#fail(`expected "," or the end of the selector, found ${describe(t)}`, t);
      const next = this.#peek();
      if (next.kind !== 'ident' && next.kind !== '!')
        this.#fail(`expected a requirement after ",", found ${describe(next)}`, next);
    }
    requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { requirements };
  }

  #peek(): Token {
    return this.#tokens[this.#pos] as Token;
  }

  #take(): Token {
    return this.#tokens[this.#pos++] as Token;
  }

  #fail(message: string, at: Token): never {
    return fail(message, this.#text, at.at);
  }

  #key(): string {
    const t = this.#take();
    if (t.kind !== 'ident') this.#fail(`expected a label key, found ${describe(t)}`, t);
    const problem = checkLabelKey(t.text);
    if (problem) this.#fail(`invalid label key "${t.text}": ${problem}`, t);
    return t.text;
  }

  #value(t: Token): string {
    const problem = checkLabelValue(t.text);
    if (problem) this.#fail(`invalid label value "${t.text}": ${problem}`, t);
    return t.text;
  }

  #exactValue(k: string): string {
    const t = this.#peek();
    if (t.kind === ',' || t.kind === 'end') return '';
    if (t.kind !== 'ident') this.#fail(`expected a value for "${k}", found ${describe(t)}`, t);
    return this.#value(this.#take());
  }

  #integerValue(k: string, op: string): string {
    const t = this.#peek();
    const v = this.#exactValue(k);
    if (parseInt64(v) === undefined) {
      const found = t.kind === 'ident' ? `"${v}"` : describe(t);
      this.#fail(`the value of "${k}${op}" must be a 64-bit decimal integer, found ${found}`, t);
    }
    return v;
  }

  #valueList(k: string): string[] {
    const open = this.#take();
    if (open.kind !== '(')
      this.#fail(`expected "(" after the operator of "${k}", found ${describe(open)}`, open);
    const values = new Set<string>();
    for (;;) {
      const t = this.#peek();
      if (t.kind === 'ident') values.add(this.#value(this.#take()));
      else values.add('');
      const sep = this.#take();
      if (sep.kind === ')') break;
      if (sep.kind !== ',')
        this.#fail(`expected "," or ")" in the value list of "${k}", found ${describe(sep)}`, sep);
    }
    return [...values].sort();
  }

  #requirement(): SelectorRequirement {
    if (this.#peek().kind === '!') {
      this.#take();
      return { key: this.#key(), operator: 'doesnotexist', values: [] };
    }
    const k = this.#key();
    return this.#operatorRequirement(k, this.#peek());
  }

  #operatorRequirement(k: string, op: Token): SelectorRequirement {
    switch (op.kind) {
      case ',':
      case 'end':
        return { key: k, operator: 'exists', values: [] };
      case '=':
      case '==':
        this.#take();
        return { key: k, operator: '=', values: [this.#exactValue(k)] };
      case '!=':
        this.#take();
        return { key: k, operator: '!=', values: [this.#exactValue(k)] };
      case '>':
      case '<':
        this.#take();
        return { key: k, operator: op.kind, values: [this.#integerValue(k, op.kind)] };
      case 'ident':
        if (op.text === 'in' || op.text === 'notin') {
          this.#take();
          return { key: k, operator: op.text, values: this.#valueList(k) };
        }
        break;
      default:
        break;
    }
    return this.#fail(
      `expected an operator (=, ==, !=, in, notin, >, <), "," or the end after key "${k}", found ${describe(op)}`,
      op,
    );
  }
}
