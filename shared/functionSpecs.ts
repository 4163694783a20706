import {
  app,
  type EventGridEvent,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
  type Timer,
} from '@azure/functions';

/**
 * Function definitions shared by the Azure Functions host and the local host (`npm start`).
 *
 * Each file in `functions/` calls one of the `define*` helpers below: it registers the trigger with
 * `@azure/functions` (a no-op outside the Functions host) and exports the same spec so the local
 * host can run the very same handler with the host's semantics.
 */

/** App-setting prefix of the storage connection used by every queue trigger. */
export const STORAGE_CONNECTION = 'AzureWebJobsStorage';

export interface QueueFunctionSpec {
  kind: 'queue';
  name: string;
  queueName: string;
  /** Receives the decoded message (parsed JSON when the text is JSON, as the host does). */
  handler: (message: unknown, context: InvocationContext) => Promise<void>;
}

export interface TimerFunctionSpec {
  kind: 'timer';
  name: string;
  /** NCRONTAB or an app-setting expression such as `%RECONCILE_SCHEDULE%`. */
  schedule: string;
  runOnStartup?: boolean;
  handler: (timer: Timer, context: InvocationContext) => Promise<void>;
}

export interface EventGridFunctionSpec {
  kind: 'eventGrid';
  name: string;
  handler: (event: EventGridEvent, context: InvocationContext) => Promise<void>;
}

export interface HttpFunctionSpec {
  kind: 'http';
  name: string;
  route: string;
  methods: ('GET' | 'POST')[];
  authLevel: 'anonymous' | 'function' | 'admin';
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
}

export type FunctionSpec = QueueFunctionSpec | TimerFunctionSpec | EventGridFunctionSpec | HttpFunctionSpec;

/** Registers a Storage Queue trigger and returns its spec. */
export function defineQueueFunction(spec: Omit<QueueFunctionSpec, 'kind'>): QueueFunctionSpec {
  app.storageQueue(spec.name, {
    queueName: spec.queueName,
    connection: STORAGE_CONNECTION,
    handler: spec.handler,
  });
  return { kind: 'queue', ...spec };
}

/** Registers a timer trigger and returns its spec. */
export function defineTimerFunction(spec: Omit<TimerFunctionSpec, 'kind'>): TimerFunctionSpec {
  app.timer(spec.name, {
    schedule: spec.schedule,
    ...(spec.runOnStartup === undefined ? {} : { runOnStartup: spec.runOnStartup }),
    handler: spec.handler,
  });
  return { kind: 'timer', ...spec };
}

/** Registers an Event Grid trigger (Event Grid schema) and returns its spec. */
export function defineEventGridFunction(spec: Omit<EventGridFunctionSpec, 'kind'>): EventGridFunctionSpec {
  app.eventGrid(spec.name, { handler: spec.handler });
  return { kind: 'eventGrid', ...spec };
}

/** Registers an HTTP trigger and returns its spec. */
export function defineHttpFunction(spec: Omit<HttpFunctionSpec, 'kind'>): HttpFunctionSpec {
  app.http(spec.name, {
    route: spec.route,
    methods: spec.methods,
    authLevel: spec.authLevel,
    handler: spec.handler,
  });
  return { kind: 'http', ...spec };
}

/** True when `value` is a spec produced by one of the `define*` helpers. */
export function isFunctionSpec(value: unknown): value is FunctionSpec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { kind?: unknown; name?: unknown; handler?: unknown };
  return (
    typeof v.name === 'string' &&
    typeof v.handler === 'function' &&
    (v.kind === 'queue' || v.kind === 'timer' || v.kind === 'eventGrid' || v.kind === 'http')
  );
}
