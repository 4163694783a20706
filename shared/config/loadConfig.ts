import { z } from 'zod';
import { ConfigError, InputError } from '../errors.js';
import { registerSecret } from '../logger.js';
import { MAX_TAG_TIMEOUT_SECONDS } from '../panorama/buildUidMessages.js';
import { DEFAULT_REMOVAL_GUARD, type RemovalGuard, type SyncPolicy } from '../pipeline/removalGuard.js';
import { type LabelSelector, parseLabelSelector } from '../selectors/parseLabelSelector.js';
import { type LabelTagFilter, labelGlobProblem } from '../tags/labelTagFilter.js';
import {
  invalidClusterNameMessage,
  invalidSelectorNameMessage,
  isClusterName,
  isSelectorName,
  isTagBudget,
  MAX_TAGS_PER_IP,
  selectorBudgetProblem,
  TAG_BUDGET_RULE,
} from '../tags/tagGrammar.js';
import { checkServiceUrl } from './checkServiceUrl.js';
import { loadEventGridSubscriptions } from './eventGridSubscriptions.js';
import { unresolvedKeyVaultReferences, withoutReferenceEchoes } from './keyVaultReferences.js';
import { jsonSyntaxReason, type Settings } from './localSettings.js';
import { longestScheduleGapMinutes } from './longestScheduleGap.js';
import { panoramaPermitSeconds } from './panoramaPermitSetting.js';
import { parsePanoramaUrls } from './panoramaUrls.js';
import { checkProxySettings, PROXY_SETTINGS } from './proxySettings.js';

export { checkServiceUrl } from './checkServiceUrl.js';

/** Where Table and Queue storage live. */
export type StorageConfig =
  | { kind: 'connectionString'; connectionString: string }
  | {
      kind: 'identity';
      queueServiceUri: string;
      tableServiceUri: string;
      /** Client ID of a user-assigned managed identity (`AzureWebJobsStorage__clientId`). */
      clientId?: string;
    };

/** How the service authenticates to a cluster's Kubernetes API. */
export type ClusterAuth =
  | { type: 'azureAd' }
  | {
      type: 'token';
      /** The bearer token itself (resolved from `tokenSetting` when that was given). */
      token: string;
    };

/** A label selector configured for a cluster: tags `aks_<name>.<cluster>.<service>`. */
export interface NamedSelector {
  name: string;
  /** The selector as written. */
  source: string;
  selector: LabelSelector;
}

/** One monitored AKS cluster. */
export interface ClusterConfig {
  /** The AKS cluster name used in tags. Unique (case-insensitively) across monitored clusters. */
  name: string;
  subscriptionId?: string;
  resourceGroup?: string;
  nodeResourceGroup?: string;
  /** ARM resource ID, when subscription and resource group are known. */
  resourceId?: string;
  server?: string;
  caData?: string;
  auth: ClusterAuth;
  labelSelectors: NamedSelector[];
  /** Notify device groups; empty = register on Panorama itself. */
  deviceGroups: string[];
  /**
   * The most tags one IP gets: the entry's `maxTagsPerIp`, else `MAX_TAGS_PER_IP` (set for every
   * parsed entry; absent = 32).
   */
  maxTagsPerIp?: number;
  /** Which label keys become label tags (`labelTags`); absent = every label. */
  labelTags?: LabelTagFilter;
  /** Whether IPs also get `aks.<cluster>.ns.<namespace>` (`namespaceTags`); absent = false. */
  namespaceTags?: boolean;
}

/** Panorama connection settings. */
export interface PanoramaConfig {
  /**
   * `PANORAMA_URL`: one base URL, or the two peers of a Panorama HA pair comma-separated (see
   * `parsePanoramaUrls`); `PanoramaClient` sends everything to the active peer.
   */
  url: string;
  apiKey?: string;
  username?: string;
  password?: string;
  caCert?: string;
  /**
   * `PANORAMA_VSYS`: `vsys=` of calls to Panorama itself only. Calls to a firewall use the vsys its
   * device group holds (see docs/targets.md).
   */
  vsys?: string;
  /** Entries per uid-message (default 1000). */
  chunkSize: number;
  /**
   * `PANORAMA_CONCURRENCY` (default 4): HTTP calls in flight per device from one instance, and to
   * one Panorama from all instances together (the shared limit, see `panoramaPermitSeconds`).
   */
  concurrency: number;
  /** Request timeout in milliseconds (default 30000). */
  timeoutMs: number;
  /**
   * `TAG_TIMEOUT_MINUTES`: every register carries `member@timeout` of this many minutes, and the
   * audit re-registers each target's owned tags before half of it has passed; absent = persistent
   * tags that never expire (the default). See `tagTimeoutSetting` and docs/tags.md.
   */
  tagTimeoutMinutes?: number;
}

/** The whole, validated configuration of the service. */
export interface AppConfig {
  storage: StorageConfig;
  panorama: PanoramaConfig;
  clusters: ClusterConfig[];
  discovery?: { subscriptions: string[]; tag: string };
  /**
   * `EVENT_GRID_SUBSCRIPTIONS` (set by infra/): subscriptions whose ARM events reach the app; absent
   * = unknown. See `eventCoverage` in shared/pipeline/eventCoverage.ts.
   */
  eventGridSubscriptions?: string[];
  /** NCRONTAB (six fields) for the reconcile timer. */
  reconcileSchedule: string;
  /** Minimum minutes between two drift audits of a target. */
  auditIntervalMinutes: number;
  /** ARM endpoint (default `https://management.azure.com`). */
  armEndpoint: string;
  /** `MAX_TAGS_PER_IP`: the tag budget per IP of clusters without their own `maxTagsPerIp` (default 32). */
  maxTagsPerIp: number;
  /** `SYNC_POLICY` (default `sync`): `upsert-only` never unregisters anything. */
  syncPolicy: SyncPolicy;
  /** `REMOVAL_GUARD_PERCENT` (default 50; 0 = off) and `REMOVAL_GUARD_MIN` (default 20). */
  removalGuard: RemovalGuard;
  /**
   * `PANORAMA_PERMIT_SECONDS`: expiry of a permit of the Panorama call limit shared by every instance
   * (default twice `PANORAMA_TIMEOUT_MS` plus 30 s); 0 = no shared limit. See `panoramaPermitSeconds`.
   */
  panoramaPermitSeconds: number;
}

/**
 * Every app setting the service reads (besides the per-cluster `tokenSetting` names and the
 * `AzureWebJobsStorage__*` identity settings). `infra/` must set only settings from this list.
 */
export const KNOWN_SETTINGS = [
  'AzureWebJobsStorage',
  'PANORAMA_URL',
  'PANORAMA_API_KEY',
  'PANORAMA_USERNAME',
  'PANORAMA_PASSWORD',
  'PANORAMA_CA_CERT',
  'PANORAMA_VSYS',
  'PANORAMA_CHUNK_SIZE',
  'PANORAMA_CONCURRENCY',
  'PANORAMA_TIMEOUT_MS',
  'PANORAMA_PERMIT_SECONDS',
  'TAG_TIMEOUT_MINUTES',
  'CLUSTERS',
  'DISCOVERY_SUBSCRIPTIONS',
  'DISCOVERY_TAG',
  'EVENT_GRID_SUBSCRIPTIONS',
  'RECONCILE_SCHEDULE',
  'AUDIT_INTERVAL_MINUTES',
  'ARM_ENDPOINT',
  'MAX_TAGS_PER_IP',
  'SYNC_POLICY',
  'REMOVAL_GUARD_PERCENT',
  'REMOVAL_GUARD_MIN',
  ...PROXY_SETTINGS,
] as const;

/** Identity-based storage settings (`AzureWebJobsStorage__<suffix>`) the service understands. */
export const STORAGE_IDENTITY_SETTINGS = [
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
] as const;

/** Default reconcile schedule: every 5 minutes. */
export const DEFAULT_RECONCILE_SCHEDULE = '0 */5 * * * *';

const BUDGET_MESSAGE = `expected ${TAG_BUDGET_RULE} (PAN-OS holds at most ${MAX_TAGS_PER_IP} tags per IP)`;

const labelGlob = z.string().refine((g) => labelGlobProblem(g) === undefined, {
  error: (issue) => `glob ${quoteSetting(String(issue.input))} ${labelGlobProblem(issue.input)}`,
});

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const clusterSchema = z
  .object({
    name: z.string().refine(isClusterName, {
      error: (issue) => invalidClusterNameMessage(quoteSetting(String(issue.input))),
    }),
    subscriptionId: z.string().regex(UUID, 'a subscription GUID').optional(),
    resourceGroup: z.string().min(1).max(90).optional(),
    nodeResourceGroup: z.string().min(1).max(90).optional(),
    server: z.url({ protocol: /^https?$/ }).optional(),
    caData: z.base64('base64 of a PEM certificate').optional(),
    auth: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('azureAd') }).strict(),
        z
          .object({
            type: z.literal('token'),
            token: z.string().min(1).optional(),
            tokenSetting: z.string().regex(SETTING_NAME, 'the name of an app setting').optional(),
          })
          .strict(),
      ])
      .default({ type: 'azureAd' }),
    labelSelectors: z
      .array(
        z
          .object({
            name: z.string().refine(isSelectorName, {
              error: (issue) => invalidSelectorNameMessage(quoteSetting(String(issue.input))),
            }),
            selector: z.string(),
          })
          .strict(),
      )
      .default([]),
    deviceGroups: z.array(z.string().min(1).max(63)).default([]),
    maxTagsPerIp: z
      .number({ error: BUDGET_MESSAGE })
      .refine(isTagBudget, { error: BUDGET_MESSAGE })
      .optional(),
    labelTags: z
      .object({ include: z.array(labelGlob).optional(), exclude: z.array(labelGlob).optional() })
      .strict()
      .optional(),
    namespaceTags: z.boolean().default(false),
  })
  .strict();

type ClusterInput = z.infer<typeof clusterSchema>;

/** Quotes user-supplied text for a one-line problem: JSON-escaped (no control characters), ≤ 100 characters. */
export function quoteSetting(text: string): string {
  const cut = text.length > 100 ? `${text.slice(0, 100)}…` : text;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function zodProblems(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? `.${issue.path.join('.')}` : '';
    return `${prefix}${path}: ${issue.message}`;
  });
}

function positiveInt(
  settings: Settings,
  key: string,
  fallback: number,
  max: number,
  problems: string[],
): number {
  return boundedInt(settings, key, { fallback, min: 1, max }, problems);
}

function boundedInt(
  settings: Settings,
  key: string,
  bounds: { fallback: number; min: number; max: number },
  problems: string[],
): number {
  const raw = settings[key];
  if (raw === undefined || raw.trim() === '') return bounds.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < bounds.min || n > bounds.max) {
    problems.push(`${key}: expected an integer from ${bounds.min} to ${bounds.max}, got "${raw}"`);
    return bounds.fallback;
  }
  return n;
}

const SYNC_POLICIES: readonly SyncPolicy[] = ['sync', 'upsert-only'];

/** `SYNC_POLICY`, `REMOVAL_GUARD_PERCENT` and `REMOVAL_GUARD_MIN`; problems are appended to `problems`. */
export function loadRemovalRules(
  settings: Settings,
  problems: string[],
): { syncPolicy: SyncPolicy; removalGuard: RemovalGuard } {
  const raw = settings.SYNC_POLICY?.trim() || 'sync';
  const syncPolicy = SYNC_POLICIES.find((p) => p === raw);
  if (!syncPolicy) problems.push(`SYNC_POLICY: expected "sync" or "upsert-only", got ${quoteSetting(raw)}`);
  const d = DEFAULT_REMOVAL_GUARD;
  const percent = boundedInt(
    settings,
    'REMOVAL_GUARD_PERCENT',
    { fallback: d.percent, min: 0, max: 100 },
    problems,
  );
  const min = boundedInt(
    settings,
    'REMOVAL_GUARD_MIN',
    { fallback: d.min, min: 0, max: 1_000_000 },
    problems,
  );
  return { syncPolicy: syncPolicy ?? 'sync', removalGuard: { percent, min } };
}

function loadStorage(settings: Settings, problems: string[]): StorageConfig {
  const conn = settings.AzureWebJobsStorage;
  if (conn && conn.trim() !== '') {
    if (
      conn.trim() === 'UseDevelopmentStorage=true' ||
      /AccountName=|SharedAccessSignature=|EndpointSuffix=/i.test(conn)
    ) {
      return { kind: 'connectionString', connectionString: conn.trim() };
    }
    problems.push('AzureWebJobsStorage: not a storage connection string');
    return { kind: 'connectionString', connectionString: '' };
  }
  const account = settings.AzureWebJobsStorage__accountName;
  const queueUri =
    settings.AzureWebJobsStorage__queueServiceUri ??
    (account ? `https://${account}.queue.core.windows.net` : undefined);
  const tableUri =
    settings.AzureWebJobsStorage__tableServiceUri ??
    (account ? `https://${account}.table.core.windows.net` : undefined);
  if (!queueUri || !tableUri) {
    problems.push(
      'AzureWebJobsStorage: missing; set a connection string, or AzureWebJobsStorage__accountName, or both AzureWebJobsStorage__queueServiceUri and AzureWebJobsStorage__tableServiceUri',
    );
    return { kind: 'connectionString', connectionString: '' };
  }
  for (const [k, v] of [
    ['AzureWebJobsStorage__queueServiceUri', queueUri],
    ['AzureWebJobsStorage__tableServiceUri', tableUri],
  ] as const) {
    const p = checkServiceUrl(k, v);
    if (p) problems.push(p);
  }
  const clientId = settings.AzureWebJobsStorage__clientId;
  return {
    kind: 'identity',
    queueServiceUri: queueUri,
    tableServiceUri: tableUri,
    ...(clientId ? { clientId } : {}),
  };
}

function loadPanorama(settings: Settings, problems: string[]): PanoramaConfig {
  const { urls, problems: urlProblems } = parsePanoramaUrls(settings.PANORAMA_URL ?? '');
  problems.push(...urlProblems);
  const url = urls.join(',');
  const apiKey = settings.PANORAMA_API_KEY?.trim() || undefined;
  const username = settings.PANORAMA_USERNAME?.trim() || undefined;
  const password = settings.PANORAMA_PASSWORD || undefined;
  if (!apiKey && !(username && password)) {
    problems.push('PANORAMA_API_KEY: missing; set it, or both PANORAMA_USERNAME and PANORAMA_PASSWORD');
  } else if (!apiKey && (username === undefined) !== (password === undefined)) {
    problems.push('PANORAMA_USERNAME/PANORAMA_PASSWORD: both are needed when PANORAMA_API_KEY is not set');
  }
  const caCert = settings.PANORAMA_CA_CERT?.trim() || undefined;
  if (caCert && !caCert.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push('PANORAMA_CA_CERT: expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  const vsys = settings.PANORAMA_VSYS?.trim() || undefined;
  if (vsys && !/^vsys\d+$/.test(vsys)) problems.push(`PANORAMA_VSYS: expected e.g. "vsys1", got "${vsys}"`);
  registerSecret(apiKey);
  registerSecret(password);
  return {
    url,
    ...(apiKey ? { apiKey } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(caCert ? { caCert } : {}),
    ...(vsys ? { vsys } : {}),
    chunkSize: positiveInt(settings, 'PANORAMA_CHUNK_SIZE', 1000, 10_000, problems),
    concurrency: positiveInt(settings, 'PANORAMA_CONCURRENCY', 4, 16, problems),
    timeoutMs: positiveInt(settings, 'PANORAMA_TIMEOUT_MS', 30_000, 600_000, problems),
  };
}

/** Builds the ARM resource ID of a managed cluster. */
export function clusterResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`;
}

/** The problem with an empty selector (it would match every Service), for config and CLI. */
export function emptySelectorMessage(text: string): string {
  return `the selector ${quoteSetting(text)} is empty and would match every Service; give at least one requirement, e.g. "app=web"`;
}

function parseSelectorOrReport(
  name: string,
  text: string,
  where: string,
  problems: string[],
): LabelSelector | undefined {
  let selector: LabelSelector;
  try {
    selector = parseLabelSelector(text);
  } catch (err) {
    const reason = err instanceof InputError ? err.message : String(err);
    problems.push(
      `${where}.labelSelectors ${quoteSetting(name)}: invalid selector ${quoteSetting(text)}: ${quoteSetting(reason).slice(1, -1)}`,
    );
    return undefined;
  }
  if (selector.requirements.length > 0) return selector;
  problems.push(`${where}.labelSelectors ${quoteSetting(name)}: ${emptySelectorMessage(text)}`);
  return undefined;
}

/** Syntax problems of the selectors of an entry that failed the schema, so one error still lists them all. */
function rawSelectorProblems(entry: unknown, where: string, problems: string[]): void {
  const selectors = (entry as { labelSelectors?: unknown } | null)?.labelSelectors;
  if (!Array.isArray(selectors)) return;
  for (const s of selectors) {
    const { name, selector } = (s ?? {}) as { name?: unknown; selector?: unknown };
    if (typeof name === 'string' && typeof selector === 'string') {
      parseSelectorOrReport(name, selector, where, problems);
    }
  }
}

function toCluster(
  input: ClusterInput,
  index: number,
  settings: Settings,
  problems: string[],
): ClusterConfig {
  const { maxTagsPerIp, labelTags, namespaceTags } = input;
  const where = `CLUSTERS[${index}] (${input.name})`;
  let auth: ClusterAuth = { type: 'azureAd' };
  if (input.auth.type === 'token') {
    const { token, tokenSetting } = input.auth;
    if ((token === undefined) === (tokenSetting === undefined)) {
      problems.push(`${where}.auth: give exactly one of "token" or "tokenSetting"`);
    }
    const resolved = token ?? (tokenSetting ? settings[tokenSetting] : undefined);
    if (tokenSetting && !resolved)
      problems.push(`${where}.auth.tokenSetting: app setting ${tokenSetting} is not set`);
    if (!input.server) problems.push(`${where}.server: required with auth type "token"`);
    registerSecret(resolved);
    auth = { type: 'token', token: resolved ?? '' };
  } else if (!input.server && !(input.subscriptionId && input.resourceGroup)) {
    problems.push(
      `${where}: auth type "azureAd" needs "subscriptionId" and "resourceGroup" (or "server" and "caData")`,
    );
  }
  if (input.server) {
    const p = checkServiceUrl(`${where}.server`, input.server);
    if (p) problems.push(p);
  }
  const labelSelectors: NamedSelector[] = [];
  const seen = new Set<string>();
  for (const s of input.labelSelectors) {
    if (seen.has(s.name)) problems.push(`${where}.labelSelectors: selector name "${s.name}" is used twice`);
    const budget = selectorBudgetProblem(s.name, input.name);
    if (budget !== undefined) problems.push(`${where}.labelSelectors "${s.name}": ${budget}`);
    seen.add(s.name);
    const selector = parseSelectorOrReport(s.name, s.selector, where, problems);
    if (selector) labelSelectors.push({ name: s.name, source: s.selector, selector });
  }
  const resourceId =
    input.subscriptionId && input.resourceGroup
      ? clusterResourceId(input.subscriptionId, input.resourceGroup, input.name)
      : undefined;
  return {
    name: input.name,
    ...(input.subscriptionId ? { subscriptionId: input.subscriptionId.toLowerCase() } : {}),
    ...(input.resourceGroup ? { resourceGroup: input.resourceGroup } : {}),
    ...(input.nodeResourceGroup ? { nodeResourceGroup: input.nodeResourceGroup } : {}),
    ...(resourceId ? { resourceId } : {}),
    ...(input.server ? { server: input.server } : {}),
    ...(input.caData ? { caData: input.caData } : {}),
    auth,
    labelSelectors,
    deviceGroups: [...new Set(input.deviceGroups)],
    maxTagsPerIp: maxTagsPerIp ?? tagBudgetSetting(settings, []),
    ...(labelTags ? { labelTags } : {}),
    namespaceTags,
  };
}

/** Largest `TAG_TIMEOUT_MINUTES`: PAN-OS' `member@timeout` maximum of 2,592,000 s (30 days). */
export const MAX_TAG_TIMEOUT_MINUTES = MAX_TAG_TIMEOUT_SECONDS / 60;

/**
 * `TAG_TIMEOUT_MINUTES` (unset or empty: persistent tags, `undefined`). It must be an integer from 1
 * to {@link MAX_TAG_TIMEOUT_MINUTES} and at least twice `auditIntervalMinutes`, so that the audit,
 * which re-registers a target's tags once half the timeout minus one audit interval has passed,
 * always does so in time. Problems are appended to `problems`, naming both settings.
 */
export function tagTimeoutSetting(
  settings: Settings,
  auditIntervalMinutes: number,
  problems: string[],
): number | undefined {
  const raw = settings.TAG_TIMEOUT_MINUTES;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TAG_TIMEOUT_MINUTES) {
    problems.push(
      `TAG_TIMEOUT_MINUTES: expected an integer from 1 to ${MAX_TAG_TIMEOUT_MINUTES} (30 days, the PAN-OS maximum), or unset for persistent tags, got "${raw}"`,
    );
    return undefined;
  }
  if (n < 2 * auditIntervalMinutes) {
    problems.push(
      `TAG_TIMEOUT_MINUTES: ${n} is shorter than twice AUDIT_INTERVAL_MINUTES (${auditIntervalMinutes}); the audit could not re-register tags before they expire. Set TAG_TIMEOUT_MINUTES to at least ${2 * auditIntervalMinutes} or lower AUDIT_INTERVAL_MINUTES`,
    );
    return undefined;
  }
  return n;
}

/**
 * With `TAG_TIMEOUT_MINUTES`, the audit refreshes tags only when the reconcile timer runs it: a
 * `RECONCILE_SCHEDULE` that leaves longer gaps than `AUDIT_INTERVAL_MINUTES` would let tags lapse.
 * Returns that problem (naming both settings), or nothing.
 */
export function checkRefreshSchedule(reconcileSchedule: string, auditIntervalMinutes: number): string[] {
  const gap = longestScheduleGapMinutes(reconcileSchedule);
  if (gap === undefined || gap <= auditIntervalMinutes) return [];
  const every = Number.isFinite(gap)
    ? `waits up to ${Math.round(gap)} minutes between two runs`
    : 'never fires';
  return [
    `RECONCILE_SCHEDULE: "${reconcileSchedule}" ${every}, longer than AUDIT_INTERVAL_MINUTES (${auditIntervalMinutes}); with TAG_TIMEOUT_MINUTES the audit it runs must refresh the tags in time. Make it fire at least every ${auditIntervalMinutes} minutes, or raise AUDIT_INTERVAL_MINUTES (and TAG_TIMEOUT_MINUTES to at least twice that)`,
  ];
}

/** `MAX_TAGS_PER_IP` (default 32); a bad value is appended to `problems` and gives the default. */
export function tagBudgetSetting(settings: Settings, problems: string[]): number {
  return positiveInt(settings, 'MAX_TAGS_PER_IP', MAX_TAGS_PER_IP, MAX_TAGS_PER_IP, problems);
}

/**
 * Parses the `CLUSTERS` setting (a JSON array of cluster entries). Problems are appended to
 * `problems`, each naming the entry and field. Every entry gets its tag budget: its own
 * `maxTagsPerIp`, else `MAX_TAGS_PER_IP` of `settings` (whose problems {@link loadConfig} reports).
 */
export function parseClusters(
  raw: string | undefined,
  settings: Settings,
  problems: string[],
): ClusterConfig[] {
  if (raw === undefined || raw.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    problems.push(`CLUSTERS: not valid JSON (${jsonSyntaxReason(err)})`);
    return [];
  }
  if (!Array.isArray(json)) {
    problems.push('CLUSTERS: expected a JSON array of cluster objects');
    return [];
  }
  const clusters: ClusterConfig[] = [];
  json.forEach((entry, i) => {
    const parsed = clusterSchema.safeParse(entry);
    if (!parsed.success) {
      const name = (entry as { name?: unknown } | null)?.name;
      const shown =
        typeof name === 'string' && /^[\w.-]{1,63}$/.test(name) ? name : quoteSetting(String(name));
      const where = `CLUSTERS[${i}]${typeof name === 'string' ? ` (${shown})` : ''}`;
      problems.push(...zodProblems(where, parsed.error));
      rawSelectorProblems(entry, where, problems);
      return;
    }
    clusters.push(toCluster(parsed.data, i, settings, problems));
  });
  problems.push(...duplicateClusterNames(clusters));
  return clusters;
}

/**
 * Names that occur twice (case-insensitively) among `clusters`, as problems naming both resource
 * IDs (or server URLs). Tags carry only the cluster name, so names must be unique.
 */
export function duplicateClusterNames(clusters: readonly ClusterConfig[]): string[] {
  const byName = new Map<string, ClusterConfig>();
  const problems: string[] = [];
  for (const c of clusters) {
    const key = c.name.toLowerCase();
    const other = byName.get(key);
    const id = (x: ClusterConfig) => x.resourceId ?? x.server ?? '(no resource ID)';
    if (other)
      problems.push(`CLUSTERS: cluster name "${c.name}" is used by two clusters: ${id(other)} and ${id(c)}`);
    else byName.set(key, c);
  }
  return problems;
}

/** Parses `DISCOVERY_SUBSCRIPTIONS` and `DISCOVERY_TAG`; problems are appended to `problems`. */
export function loadDiscovery(settings: Settings, problems: string[]): AppConfig['discovery'] {
  const subs = settings.DISCOVERY_SUBSCRIPTIONS?.trim();
  const tag = settings.DISCOVERY_TAG?.trim();
  if (!subs && !tag) return undefined;
  if (!subs || !tag) {
    problems.push(
      'DISCOVERY_SUBSCRIPTIONS/DISCOVERY_TAG: set both to discover clusters by Azure tag, or neither',
    );
    return undefined;
  }
  const subscriptions = subs
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of subscriptions) {
    if (!UUID.test(s)) problems.push(`DISCOVERY_SUBSCRIPTIONS: "${s}" is not a subscription GUID`);
  }
  return { subscriptions: subscriptions.map((s) => s.toLowerCase()), tag };
}

/** Validates a six-field NCRONTAB expression (seconds first), as the Functions timer takes. */
export function checkNcrontab(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 6)
    return `expected six fields (second minute hour day month weekday), got ${fields.length}`;
  const field = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$|^[A-Za-z,\-*]+$/;
  const bad = fields.find((f) => !field.test(f));
  return bad === undefined ? undefined : `field "${bad}" is not valid`;
}

/** The other spellings of the proxy settings that the proxy libraries read from the environment. */
const PROXY_ENV_SPELLINGS = ['https_proxy', 'http_proxy', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/**
 * Reads and validates every setting once. Throws one {@link ConfigError} listing every bad
 * setting with what was expected. Secrets found are registered for log redaction.
 *
 * @param settings environment-like map, usually {@link effectiveSettings}().
 */
export function loadConfig(settings: Settings): AppConfig {
  const problems: string[] = [];
  problems.push(
    ...unresolvedKeyVaultReferences(settings, [
      ...KNOWN_SETTINGS,
      ...STORAGE_IDENTITY_SETTINGS,
      ...PROXY_ENV_SPELLINGS,
    ]),
  );
  const storage = loadStorage(settings, problems);
  const panorama = loadPanorama(settings, problems);
  const clusters = parseClusters(settings.CLUSTERS, settings, problems);
  const discovery = loadDiscovery(settings, problems);
  const eventGridSubscriptions = loadEventGridSubscriptions(settings, problems);
  if (clusters.length === 0 && !discovery && settings.CLUSTERS === undefined) {
    problems.push(
      'CLUSTERS: missing; set a JSON array of clusters, or DISCOVERY_SUBSCRIPTIONS and DISCOVERY_TAG',
    );
  }
  const reconcileSchedule = settings.RECONCILE_SCHEDULE?.trim() || DEFAULT_RECONCILE_SCHEDULE;
  const cronProblem = checkNcrontab(reconcileSchedule);
  if (cronProblem) problems.push(`RECONCILE_SCHEDULE: ${cronProblem}`);
  const auditIntervalMinutes = positiveInt(settings, 'AUDIT_INTERVAL_MINUTES', 15, 10_080, problems);
  const tagTimeoutMinutes = tagTimeoutSetting(settings, auditIntervalMinutes, problems);
  if (tagTimeoutMinutes && !cronProblem)
    problems.push(...checkRefreshSchedule(reconcileSchedule, auditIntervalMinutes));
  const armEndpoint = (settings.ARM_ENDPOINT?.trim() || 'https://management.azure.com').replace(/\/+$/, '');
  const armProblem = checkServiceUrl('ARM_ENDPOINT', armEndpoint);
  if (armProblem) problems.push(armProblem);
  const maxTagsPerIp = tagBudgetSetting(settings, problems);
  const removalRules = loadRemovalRules(settings, problems);
  const panoramaPermitSecondsValue = panoramaPermitSeconds(settings, panorama.timeoutMs, problems);
  problems.push(...checkProxySettings(settings));
  if (problems.length > 0) throw new ConfigError(withoutReferenceEchoes(problems));
  return {
    storage,
    panorama: { ...panorama, ...(tagTimeoutMinutes ? { tagTimeoutMinutes } : {}) },
    clusters,
    ...(discovery ? { discovery } : {}),
    ...(eventGridSubscriptions ? { eventGridSubscriptions } : {}),
    reconcileSchedule,
    auditIntervalMinutes,
    armEndpoint,
    maxTagsPerIp,
    ...removalRules,
    panoramaPermitSeconds: panoramaPermitSecondsValue,
  };
}
