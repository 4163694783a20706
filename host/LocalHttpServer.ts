import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type {
  EventGridEvent,
  HttpRequest,
  HttpResponseInit,
  HttpResponse as HttpResponseType,
} from '@azure/functions';
import azureFunctions from '@azure/functions';
import { describeError } from '../shared/errors.js';
import type { EventGridFunctionSpec, FunctionSpec, HttpFunctionSpec } from '../shared/functionSpecs.js';
import { escapeControlCharacters, type Logger } from '../shared/logger.js';
import type { InvocationResult, Invoker } from './Invoker.js';

/** Largest request body the local host reads (Event Grid allows 1 MB per batch; the host 100 MB). */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Keys guarding `authLevel: 'function'` and `'admin'` HTTP functions. */
export interface FunctionKeys {
  /** Accepted for `function` level. */
  functionKey: string;
  /** Accepted for `function` and `admin` level. */
  masterKey: string;
}

/** Options of {@link LocalHttpServer}. */
export interface LocalHttpServerOptions {
  specs: readonly FunctionSpec[];
  invoker: Invoker;
  logger: Logger;
  keys: FunctionKeys;
}

/** A compiled `/api/<route>` template. */
interface CompiledRoute {
  spec: HttpFunctionSpec;
  pattern: RegExp;
  params: string[];
}

/** A route that matched a request path, with the matcher's captures. */
interface RouteMatch {
  route: CompiledRoute;
  values: RegExpExecArray;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiles a Functions route template (`items/{id}`, `{name?}`, `{*rest}`, constraints such as
 * `{id:int}` are accepted and ignored) to a case-insensitive matcher.
 */
export function compileRoute(route: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  const segments = route.replace(/^\/+|\/+$/g, '').split('/');
  let source = '';
  for (const segment of segments) {
    const m = /^\{(\*)?([A-Za-z_][\w]*)(?::[^}?=]+)?(\?)?\}$/.exec(segment);
    if (m) {
      const [, catchAll, name = '', optional] = m;
      params.push(name);
      if (catchAll) source += '(?:/(.*))?';
      else if (optional) source += '(?:/([^/]+))?';
      else source += '/([^/]+)';
    } else if (segment !== '') {
      source += `/${escapeRegExp(segment)}`;
    }
  }
  return { pattern: new RegExp(`^/api${source}/?$`, 'i'), params };
}

function keyEquals(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
  } else if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  } else {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }
}

const REQUIRED_EVENT_FIELDS = ['id', 'eventType', 'subject', 'eventTime'] as const;

/**
 * Checks that every element of an Event Grid delivery is an Event Grid schema event. Returns the
 * first problem found, or `undefined`.
 */
export function eventGridBatchProblem(events: unknown[]): string | undefined {
  for (const [i, event] of events.entries()) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return `event [${i}] is not a JSON object`;
    }
    const e = event as Record<string, unknown>;
    for (const field of REQUIRED_EVENT_FIELDS) {
      if (typeof e[field] !== 'string' || e[field] === '') {
        return `event [${i}] has no string "${field}" (Event Grid schema)`;
      }
    }
    if (!('data' in e)) return `event [${i}] has no "data" (Event Grid schema)`;
  }
  return undefined;
}

/** The parsed JSON of a request body, or the 400 message when it is not JSON. */
function parseJsonBody(body: Buffer): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch (err) {
    return {
      problem: `The request body is not valid JSON: ${escapeControlCharacters((err as Error).message)}`,
    };
  }
}

/**
 * The `data.validationCode` of the first event of a `SubscriptionValidation` delivery (a single
 * event object may carry `data` as a JSON string), or `undefined` when there is none.
 */
function subscriptionValidationCode(parsed: unknown): string | undefined {
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  let data = (first as { data?: unknown } | undefined)?.data;
  if (typeof data === 'string' && !Array.isArray(parsed)) {
    try {
      data = JSON.parse(data);
    } catch {}
  }
  const code = (data as { validationCode?: unknown } | undefined)?.validationCode;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** Splits a delivery into the Event Grid schema events and the problems of the others. */
function partitionEvents(events: unknown[]): { usable: EventGridEvent[]; problems: string[] } {
  const usable: EventGridEvent[] = [];
  const problems: string[] = [];
  events.forEach((event, i) => {
    const problem = eventGridBatchProblem([event]);
    if (problem) problems.push(problem.replace('event [0]', `event [${i}]`));
    else usable.push(event as EventGridEvent);
  });
  return { usable, problems };
}

function routeParams({ route, values }: RouteMatch): Record<string, string> {
  const params: Record<string, string> = {};
  route.params.forEach((name, i) => {
    const v = values[i + 1];
    if (v !== undefined) params[name] = decodeURIComponent(v);
  });
  return params;
}

function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return headers;
}

/** The `HttpRequest` an HTTP function receives (the body is read for methods other than GET and HEAD). */
async function toHttpRequest(
  req: IncomingMessage,
  url: URL,
  method: string,
  params: Record<string, string>,
): Promise<HttpRequest> {
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
  return new azureFunctions.HttpRequest({
    method,
    url: url.toString().replace('http://127.0.0.1', `http://${req.headers.host ?? '127.0.0.1'}`),
    headers: requestHeaders(req),
    params,
    ...(body && body.length > 0 ? { body: { bytes: new Uint8Array(body) } } : {}),
  });
}

/**
 * The host's HTTP front door on 127.0.0.1: the Event Grid webhook
 * (`POST /runtime/webhooks/eventgrid?functionName=<name>`, including the `SubscriptionValidation`
 * handshake), HTTP functions under `/api/<route>` with function keys, and `GET /` as a liveness probe.
 */
export class LocalHttpServer {
  readonly #o: LocalHttpServerOptions;
  readonly #server: Server;
  readonly #routes: CompiledRoute[];
  readonly #eventGrid = new Map<string, EventGridFunctionSpec>();
  readonly #sockets = new Set<Socket>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: LocalHttpServerOptions) {
    this.#o = options;
    this.#routes = options.specs
      .filter((s): s is HttpFunctionSpec => s.kind === 'http')
      .map((spec) => ({ spec, ...compileRoute(spec.route) }));
    for (const s of options.specs) if (s.kind === 'eventGrid') this.#eventGrid.set(s.name.toLowerCase(), s);
    this.#server = createServer((req, res) => {
      const task = this.#handle(req, res).catch((err) => {
        this.#o.logger.error('Local host request failed', { url: req.url, error: describeError(err) });
        if (!res.headersSent) send(res, (err as { status?: number }).status ?? 500);
        else res.destroy();
      });
      this.#pending.add(task);
      void task.finally(() => this.#pending.delete(task));
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Listens on 127.0.0.1:`port` (0 = ephemeral) and resolves to the base URL. */
  listen(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        const address = this.#server.address() as AddressInfo;
        resolve(`http://127.0.0.1:${address.port}`);
      });
    });
  }

  /** Stops accepting connections, waits for requests in progress, then closes idle keep-alive sockets. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    this.#server.closeIdleConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (/^\/runtime\/webhooks\/eventgrid\/?$/i.test(path)) {
      if (method !== 'POST') return send(res, 405, 'The Event Grid webhook accepts POST only');
      return this.#eventGridWebhook(req, res, url);
    }
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      return send(res, 200, 'aks-panorama-sync local Functions host is running');
    }
    if (/^\/api(\/|$)/i.test(path)) return this.#httpFunction(req, res, url, method);
    send(res, 404);
  }

  async #eventGridWebhook(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const functionName = url.searchParams.get('functionName') ?? '';
    const spec = this.#eventGrid.get(functionName.toLowerCase());
    if (!spec) return this.#eventGridFunctionNotFound(res, functionName);
    const eventType = (req.headers['aeg-event-type'] ?? '').toString();
    const body = parseJsonBody(await readBody(req));
    if ('problem' in body) return send(res, 400, body.problem);
    switch (eventType.toLowerCase()) {
      case 'subscriptionvalidation':
        return this.#validateSubscription(res, spec, body.value);
      case 'unsubscribe':
        return send(res, 202);
      case 'notification':
        return this.#deliverNotification(res, spec, body.value);
      default:
        return send(
          res,
          400,
          `The aeg-event-type header must be Notification, SubscriptionValidation or Unsubscribe (got '${escapeControlCharacters(eventType)}')`,
        );
    }
  }

  #eventGridFunctionNotFound(res: ServerResponse, functionName: string): void {
    const available = [...this.#eventGrid.values()].map((s) => s.name).join(', ');
    this.#o.logger.info(`cannot find function: '${functionName}', available function names: [${available}]`);
    send(res, 404, `cannot find function: '${escapeControlCharacters(functionName)}'`);
  }

  /** The `SubscriptionValidation` handshake: echoes the first event's `data.validationCode`. */
  #validateSubscription(res: ServerResponse, spec: EventGridFunctionSpec, parsed: unknown): void {
    const code = subscriptionValidationCode(parsed);
    if (code === undefined) {
      send(res, 400, 'SubscriptionValidation: the first event has no data.validationCode');
      return;
    }
    this.#o.logger.info(`perform handshake with eventGrid for function: ${spec.name}`);
    send(res, 200, { validationResponse: code });
  }

  /** A `Notification` delivery: skips malformed events, invokes the function once per event. */
  async #deliverNotification(
    res: ServerResponse,
    spec: EventGridFunctionSpec,
    parsed: unknown,
  ): Promise<void> {
    if (typeof parsed !== 'object' || parsed === null) {
      return send(
        res,
        400,
        'The request body must be a JSON array of Event Grid events (or a single event object)',
      );
    }
    const events: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    if (events.length === 0)
      return send(res, 400, 'The request body is an empty array: no events to deliver');
    const { usable, problems } = partitionEvents(events);
    for (const problem of problems) {
      this.#o.logger.warn(`Malformed Event Grid event skipped: ${problem}`, { function: spec.name });
    }
    if (usable.length === 0) return send(res, 400, `Malformed Event Grid event: ${problems.join('; ')}`);
    const results = await Promise.all(usable.map((event) => this.#invokeEventGrid(spec, event)));
    const failure = results.find((r) => !r.ok);
    if (failure && !failure.ok) return send(res, 500, describeError(failure.error));
    send(res, 202);
  }

  #invokeEventGrid(spec: EventGridFunctionSpec, event: EventGridEvent): Promise<InvocationResult<unknown>> {
    return this.#o.invoker.invoke(spec, (context) => spec.handler(event, context), {
      trigger: { type: 'eventGridTrigger' },
      fields: { eventId: event.id, eventType: event.eventType },
    });
  }

  async #httpFunction(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const match = this.#matchRoute(url.pathname, method);
    if (!match) return send(res, 404);
    const { spec } = match.route;
    if (!this.#authorized(spec, req, url)) return send(res, 401);
    const request = await toHttpRequest(req, url, method, routeParams(match));
    const result = await this.#o.invoker.invoke(spec, (context) => spec.handler(request, context), {
      trigger: { type: 'httpTrigger', authLevel: spec.authLevel, methods: spec.methods, route: spec.route },
      fields: { method, path: url.pathname },
    });
    if (!result.ok) return send(res, 500);
    await this.#writeResponse(res, result.value);
  }

  #matchRoute(path: string, method: string): RouteMatch | undefined {
    for (const route of this.#routes) {
      const values = route.pattern.exec(path);
      if (values && route.spec.methods.includes(method as 'GET' | 'POST')) return { route, values };
    }
    return undefined;
  }

  /** Whether the request carries a key of the function's `authLevel` (`x-functions-key` or `?code=`). */
  #authorized(spec: HttpFunctionSpec, req: IncomingMessage, url: URL): boolean {
    if (spec.authLevel === 'anonymous') return true;
    const given = req.headers['x-functions-key']?.toString() ?? url.searchParams.get('code');
    const { functionKey, masterKey } = this.#o.keys;
    return keyEquals(given, masterKey) || (spec.authLevel === 'function' && keyEquals(given, functionKey));
  }

  async #writeResponse(
    res: ServerResponse,
    value: HttpResponseInit | HttpResponseType | undefined,
  ): Promise<void> {
    if (value === undefined || value === null) return send(res, 204);
    const { HttpResponse } = azureFunctions;
    const response = value instanceof HttpResponse ? value : new HttpResponse(value);
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const cookies = response.cookies.map((c) => {
      const parts = [`${c.name}=${c.value}`];
      if (c.domain) parts.push(`Domain=${c.domain}`);
      if (c.path) parts.push(`Path=${c.path}`);
      if (c.expires !== undefined) parts.push(`Expires=${new Date(c.expires).toUTCString()}`);
      if (c.maxAge !== undefined) parts.push(`Max-Age=${c.maxAge}`);
      if (c.secure) parts.push('Secure');
      if (c.httpOnly) parts.push('HttpOnly');
      if (c.sameSite) parts.push(`SameSite=${c.sameSite}`);
      return parts.join('; ');
    });
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    res.writeHead(response.status, headers);
    if (response.body) {
      await new Promise<void>((resolve, reject) => {
        Readable.fromWeb(response.body as WebReadableStream)
          .on('error', reject)
          .pipe(res)
          .on('finish', () => resolve())
          .on('error', reject);
      });
    } else {
      res.end();
    }
  }
}
