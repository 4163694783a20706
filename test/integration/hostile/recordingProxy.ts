import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One request as it went over the wire to Panorama. */
export interface RawRequest {
  method: string;
  url: string;
  /** The request body exactly as received (UTF-8). */
  body: string;
  /** Every parameter (query string and form body). */
  params: URLSearchParams;
}

/**
 * A pass-through HTTP proxy in front of the Panorama simulator that keeps the raw bytes of every
 * request, so tests can check what the client really put on the wire (the simulator keeps only
 * what it could parse).
 */
export interface RecordingProxy {
  url: string;
  requests: RawRequest[];
  stop(): Promise<void>;
}

export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  const requests: RawRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const url = req.url ?? '/';
      const params = new URLSearchParams(new URL(url, 'http://proxy').search);
      for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      requests.push({ method: req.method ?? 'GET', url, body, params });
      const headers = { ...req.headers, host: target.host };
      const upstream = http.request(
        { hostname: target.hostname, port: target.port, method: req.method, path: url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Characters allowed in an XML 1.0 document (the `Char` production), as a whole-string test. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the XML Char production
const XML_CHARS = /^[\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

/**
 * Checks that `xml` is a well-formed XML document made only of XML 1.0 characters; returns the
 * problem or `undefined`.
 */
export function xmlProblem(xml: string): string | undefined {
  if (!XML_CHARS.test(xml)) return 'contains a character XML 1.0 does not allow';
  const result = XMLValidator.validate(xml);
  if (result !== true) return `${result.err.code}: ${result.err.msg} (line ${result.err.line})`;
  return undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: true,
  isArray: (name) => ['entry', 'member'].includes(name),
});

/** The (ip, tags) entries of a `uid-message` cmd, read back with an XML parser. */
export function uidEntries(cmd: string): { section: string; ip: string; tags: string[] }[] {
  const doc = parser.parse(cmd) as {
    'uid-message'?: {
      payload?: Record<string, { entry?: { '@_ip': string; tag?: { member?: unknown[] } }[] }>;
    };
  };
  const out: { section: string; ip: string; tags: string[] }[] = [];
  for (const [section, node] of Object.entries(doc['uid-message']?.payload ?? {})) {
    for (const e of node?.entry ?? []) {
      const tags = (e.tag?.member ?? []).map((m) =>
        typeof m === 'object' && m !== null ? String((m as { '#text': unknown })['#text']) : String(m),
      );
      out.push({ section, ip: String(e['@_ip']), tags });
    }
  }
  return out;
}

/** Why PAN-OS would refuse `tag`, checked independently of the code under test; `undefined` if fine. */
export function panTagRuleBroken(tag: string): string | undefined {
  if (tag.length === 0) return 'empty';
  if (tag.length > 127) return `${tag.length} characters (more than 127)`;
  if (/['"]/.test(tag)) return 'a quote';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule under test
  if (/[\u0000-\u001f\u007f-\u009f]/.test(tag)) return 'a control character';
  if (tag.includes('  ')) return 'two consecutive spaces';
  if (/[^\u0020-\u007e]/.test(tag)) return 'a non-ASCII character';
  return undefined;
}
