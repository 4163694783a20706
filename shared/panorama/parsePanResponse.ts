import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { UidSection } from './buildUidMessages.js';

/** A per-entry outcome listed in `msg/line/uid-response/payload/<section>/entry`. */
export interface UidEntryMessage {
  section: UidSection;
  ip: string;
  message: string;
}

/** The parts of a PAN-OS `<response>` envelope the client decides on. */
export interface PanResponse {
  /** `response@status` as sent (`success`, `error`, …), lower-cased. */
  status: string;
  /** `response@code`, when present and numeric. */
  code?: number;
  /** The human-readable message (`msg/line`, `msg`, `result/msg/line`, `result/msg`), lines joined with ` | `. */
  message?: string;
  /** The parsed `<result>` element (fast-xml-parser object form; `entry`, `member`, `line` are arrays). */
  result: unknown;
  /** Entries of a `uid-response` (register/unregister), in document order. */
  uidEntries: UidEntryMessage[];
  /** True when the body carried a `uid-response` element. */
  hasUidResponse: boolean;
}

const ARRAY_ELEMENTS = new Set(['entry', 'member', 'line']);

/**
 * The one parser configuration used for PAN-OS bodies: attributes under `@_`, values kept as
 * strings, `entry`/`member`/`line` always arrays. Accepts the device's `status = 'error'` form.
 * (`jPath: false`: the parser does not build path strings, which makes it about six times faster.)
 */
export const panXmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  jPath: false,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});

type Node = Record<string, unknown>;

/** Narrows a parsed value to an element object. */
export function asNode(value: unknown): Node | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Node) : undefined;
}

/** The parsed value as an array (`undefined` → `[]`, a single value → `[value]`). */
export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** The text of a parsed element: a string, or the `#text` of an element with attributes. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const node = asNode(value);
  const text = node?.['#text'];
  return typeof text === 'string' || typeof text === 'number' ? String(text) : undefined;
}

function linesOf(msg: unknown): string[] {
  const direct = textOf(msg);
  const node = asNode(msg);
  const lines = node ? asArray(node.line).map(textOf) : [];
  return [direct, ...lines]
    .filter((l): l is string => l !== undefined && l.trim() !== '')
    .map((l) => l.trim());
}

function uidEntriesOf(response: Node): { found: boolean; entries: UidEntryMessage[] } {
  const holders = [asNode(response.msg), asNode(asNode(response.result)?.msg), asNode(response.result)];
  const entries: UidEntryMessage[] = [];
  let found = false;
  for (const holder of holders) {
    if (!holder) continue;
    const uidNodes = [
      holder['uid-response'],
      ...asArray(holder.line).map((l) => asNode(l)?.['uid-response']),
    ];
    for (const uid of uidNodes) {
      const uidNode = asNode(uid);
      if (!uidNode) continue;
      found = true;
      const payload = asNode(uidNode.payload);
      for (const section of ['unregister', 'register'] as const) {
        for (const e of asArray(asNode(payload?.[section])?.entry)) {
          const entry = asNode(e);
          if (!entry) continue;
          entries.push({
            section,
            ip: String(entry['@_ip'] ?? ''),
            message: String(entry['@_message'] ?? ''),
          });
        }
      }
    }
  }
  return { found, entries };
}

/**
 * Parses a PAN-OS XML API body, whatever the HTTP status it came with. Returns `undefined` when the
 * body is not well-formed XML with a `<response>` root (an HTML error page, an empty or cut body).
 */
export function parsePanResponse(body: string): PanResponse | undefined {
  if (!body.includes('<response') || XMLValidator.validate(body) !== true) return undefined;
  let doc: Node;
  try {
    doc = panXmlParser.parse(body) as Node;
  } catch {
    return undefined;
  }
  const response = asNode(doc.response);
  if (!response) return undefined;
  const status = String(response['@_status'] ?? '').toLowerCase();
  const rawCode = response['@_code'];
  const code = rawCode !== undefined && /^\d+$/.test(String(rawCode).trim()) ? Number(rawCode) : undefined;
  const result = asNode(response.result);
  const lines = [...linesOf(response.msg), ...linesOf(result?.msg)];
  const { found, entries } = uidEntriesOf(response);
  return {
    status,
    ...(code === undefined ? {} : { code }),
    ...(lines.length > 0 ? { message: lines.join(' | ') } : {}),
    result: response.result,
    uidEntries: entries,
    hasUidResponse: found,
  };
}

/**
 * True when a per-entry message only says the change was already in place: on register a message
 * ending in `already exists, ignore`; on unregister one containing `does not exist, ignore`
 * (covers `… does not exist, ignore unreg`). The exact wording of the device is not captured: see `test/fixtures/panorama/README.md`.
 */
export function isIdempotentEntryMessage(section: UidSection, message: string): boolean {
  const m = message.trim().toLowerCase();
  return section === 'register' ? m.endsWith('already exists, ignore') : m.includes('does not exist, ignore');
}
