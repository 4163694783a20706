import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_SETTINGS, loadConfig, STORAGE_IDENTITY_SETTINGS } from '../../../shared/config/loadConfig.js';
import { DELTA_QUEUE, RECOMPUTE_QUEUE } from '../../../shared/queues/queueNames.js';
import { CLUSTER_STATE_TABLE } from '../../../shared/state/ClusterStateStore.js';
import { PANORAMA_PERMIT_TABLE } from '../../../shared/state/PermitStore.js';
import { TARGET_STATE_TABLE } from '../../../shared/state/TargetStatusStore.js';
import {
  type AppSettings,
  type ArmTemplate,
  allTemplates,
  at,
  expandUserFunctions,
  findResources,
  isExpression,
  isObject,
  type Json,
  type JsonObject,
  reachableStrings,
  readAppSettings,
  resourcesOf,
} from './armTemplate.js';

/**
 * Contract between infra/main.bicep (compiled by the real Bicep CLI) and the app: the app settings
 * it sets, secrets, storage hardening, role assignments and the Event Grid subscription.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const COMPILED = join(ROOT, '.cache/bicep/main.json');

/** Settings read by the Functions platform or the Azure SDKs rather than by shared/config. */
const PLATFORM_SETTINGS = [
  'AZURE_CLIENT_ID',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
] as const;

/** Settings the platform itself needs from this template on Flex Consumption. */
const REQUIRED_PLATFORM_SETTINGS = [
  ...PLATFORM_SETTINGS,
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
];

const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
  aksRbacReader: '7f6c6a51-bcf8-42ba-9220-52d62157d7db',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
} as const;

/** The narrowest scope each role may be assigned at ('subscription' = no `scope` property). */
const ROLE_SCOPES: Record<string, readonly string[]> = {
  [ROLE.storageBlobDataOwner]: ['Microsoft.Storage/storageAccounts'],
  [ROLE.storageQueueDataContributor]: ['Microsoft.Storage/storageAccounts'],
  [ROLE.storageTableDataContributor]: ['Microsoft.Storage/storageAccounts'],
  [ROLE.keyVaultSecretsUser]: ['Microsoft.KeyVault/vaults'],
  [ROLE.keyVaultSecretsOfficer]: ['Microsoft.KeyVault/vaults'],
  [ROLE.monitoringMetricsPublisher]: ['Microsoft.Insights/components'],
  [ROLE.aksClusterUser]: ['Microsoft.ContainerService/managedClusters', 'subscription'],
  [ROLE.aksRbacReader]: ['Microsoft.ContainerService/managedClusters', 'subscription'],
  [ROLE.reader]: ['subscription'],
};

const EXPECTED_FILTER = {
  includedEventTypes: [
    'Microsoft.Resources.ResourceWriteSuccess',
    'Microsoft.Resources.ResourceDeleteSuccess',
  ],
  advancedFilters: [
    {
      operatorType: 'StringIn',
      key: 'data.operationName',
      values: [
        'Microsoft.ContainerService/managedClusters/write',
        'Microsoft.ContainerService/managedClusters/delete',
        'Microsoft.Network/loadBalancers/write',
        'Microsoft.Network/loadBalancers/delete',
      ],
    },
  ],
};

const SUB = '00000000-0000-0000-0000-000000000001';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** One value for every property of the template's clusterType (kept in step by a test below). */
const SAMPLE_CLUSTER = {
  name: 'aks-prod-1',
  subscriptionId: SUB,
  resourceGroup: 'rg-aks',
  nodeResourceGroup: 'MC_rg-aks_aks-prod-1_westeurope',
  server: 'https://aks-prod-1.hcp.westeurope.azmk8s.io',
  caData: Buffer.from(CA_PEM).toString('base64'),
  auth: { type: 'azureAd' },
  labelSelectors: [{ name: 'web', selector: 'app=web,tier in (front)' }],
  deviceGroups: ['dg-spoke-1'],
  labelTags: { exclude: ['helm.sh/chart'] },
  namespaceTags: true,
  maxTagsPerIp: 24,
};

const SAMPLE_TOKEN_CLUSTER = {
  name: 'aks-edge',
  server: 'https://aks-edge.example.net',
  auth: { type: 'token', tokenSetting: 'AKS_EDGE_TOKEN' },
};

/** What the platform would put in each setting the template sets through an expression. */
const SAMPLE_VALUES: Record<string, string> = {
  AzureWebJobsStorage__clientId: '11111111-1111-1111-1111-111111111111',
  AzureWebJobsStorage__blobServiceUri: 'https://stexample.blob.core.windows.net/',
  AzureWebJobsStorage__queueServiceUri: 'https://stexample.queue.core.windows.net/',
  AzureWebJobsStorage__tableServiceUri: 'https://stexample.table.core.windows.net/',
  AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111',
  APPLICATIONINSIGHTS_CONNECTION_STRING:
    'InstrumentationKey=00000000-0000-0000-0000-000000000002;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
    'ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD',
  PANORAMA_URL: 'https://panorama.example.net',
  EVENT_GRID_SUBSCRIPTIONS: 'none',
  CLUSTERS: JSON.stringify([SAMPLE_CLUSTER]),
  RECONCILE_SCHEDULE: '0 */5 * * * *',
  AUDIT_INTERVAL_MINUTES: '15',
};

let main: ArmTemplate;
let appSettings: AppSettings;
let appSettingsTemplate: ArmTemplate;

/** `%NAME%` app-setting expressions used by the trigger definitions in functions/. */
function bindingExpressionSettings(): string[] {
  const dir = join(ROOT, 'functions');
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/'%([A-Za-z_][A-Za-z0-9_]*)%'/g)])
    .map((m) => m[1] as string);
  return [...new Set(names)];
}

function settingNames(filter: (conditional: boolean) => boolean = () => true): string[] {
  return appSettings.settings.filter((s) => filter(s.conditional)).map((s) => s.name);
}

/** The Panorama credential settings: API key by default, username and password with panoramaUsername. */
const CREDENTIAL_SAMPLE = { PANORAMA_API_KEY: 'value-resolved-from-key-vault' };

/** The computed app settings expression that holds `name`. */
function computedWith(name: string): string {
  const found = appSettings.computed.filter((e) => e.includes(`'${name}'`));
  expect(found, `one computed expression sets ${name}`).toHaveLength(1);
  return found[0] as string;
}

/** The settings the template always sets, with literal values or stand-ins for computed ones. */
function deployedSettings(): Record<string, string> {
  const out: Record<string, string> = { ...CREDENTIAL_SAMPLE };
  for (const s of appSettings.settings.filter((x) => !x.conditional)) {
    if (typeof s.value === 'string' && !isExpression(s.value)) out[s.name] = s.value;
    else if (s.name in SAMPLE_VALUES) out[s.name] = SAMPLE_VALUES[s.name] as string;
    else throw new Error(`no sample value for app setting ${s.name}; add one to SAMPLE_VALUES`);
  }
  return out;
}

function roleGuids(template: ArmTemplate, expression: Json): string[] {
  const guids = reachableStrings(template, expression).flatMap((s) => [
    ...s.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi),
  ]);
  return [...new Set(guids.map((m) => m[0].toLowerCase()))];
}

beforeAll(() => {
  // Compiles main.bicep with the real Bicep CLI (restored from NuGet on first use: slow once).
  execFileSync('bash', [join(ROOT, 'scripts/bicep-check.sh'), '--build-main'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 290_000,
  });
  main = JSON.parse(readFileSync(COMPILED, 'utf8')) as ArmTemplate;
  const configs = findResources(main, 'Microsoft.Web/sites/config').filter((r) =>
    String(r.value.name).includes("'appsettings'"),
  );
  expect(configs).toHaveLength(1);
  const config = configs[0] as (typeof configs)[number];
  appSettingsTemplate = config.template;
  appSettings = readAppSettings(config.template, config.value.properties as Json);
}, 300_000);

describe('app settings', () => {
  it("takes any other app setting from additionalAppSettings, with the template's own settings winning", () => {
    const [config] = findResources(main, 'Microsoft.Web/sites/config').filter((r) =>
      String(r.value.name).includes("'appsettings'"),
    );
    // union() lets later objects win: the parameter comes first.
    expect(String(config?.value.properties)).toMatch(/^\[union\(parameters\('additionalAppSettings'\), /);
    expect(at(main, 'parameters.additionalAppSettings.defaultValue')).toEqual({});
  });

  it('sets every setting shared/config requires, so loadConfig accepts the deployed settings', () => {
    const config = loadConfig(deployedSettings());

    expect(config.storage).toMatchObject({
      kind: 'identity',
      queueServiceUri: SAMPLE_VALUES.AzureWebJobsStorage__queueServiceUri,
      tableServiceUri: SAMPLE_VALUES.AzureWebJobsStorage__tableServiceUri,
      clientId: SAMPLE_VALUES.AzureWebJobsStorage__clientId,
    });
    expect(config.panorama.apiKey).toBe(CREDENTIAL_SAMPLE.PANORAMA_API_KEY);
    expect(config.eventGridSubscriptions).toEqual([]);
    expect(config.clusters.map((c) => c.name)).toEqual([SAMPLE_CLUSTER.name]);
  });

  it('always sets the identity-based host storage, telemetry and SDK identity settings', () => {
    expect(settingNames((conditional) => !conditional)).toEqual(
      expect.arrayContaining(REQUIRED_PLATFORM_SETTINGS),
    );
    expect(appSettings.settings.find((s) => s.name === 'AzureWebJobsStorage__credential')?.value).toBe(
      'managedidentity',
    );
    const auth = appSettings.settings.find((s) => s.name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    expect(String(auth?.value)).toContain('Authorization=AAD');
  });

  it('always sets every %SETTING% that a trigger in functions/ binds to', () => {
    const bound = bindingExpressionSettings();

    expect(bound).toContain('RECONCILE_SCHEDULE');
    expect(settingNames((conditional) => !conditional)).toEqual(expect.arrayContaining(bound));
  });

  it('sets only settings shared/config or the platform knows, and none deprecated on Flex', () => {
    const known = new Set<string>([...KNOWN_SETTINGS, ...STORAGE_IDENTITY_SETTINGS, ...PLATFORM_SETTINGS]);

    const unknown = settingNames().filter((name) => !known.has(name));

    expect(unknown).toEqual([]);
    expect(settingNames()).not.toContain('AzureWebJobsStorage');
  });

  it('sets the optional settings only through an expression that can leave them out', () => {
    expect(settingNames((conditional) => conditional).sort()).toEqual(
      [
        'DISCOVERY_SUBSCRIPTIONS',
        'DISCOVERY_TAG',
        'PANORAMA_CA_CERT',
        'PANORAMA_VSYS',
        'TAG_TIMEOUT_MINUTES',
      ].sort(),
    );
  });

  it('makes PANORAMA_API_KEY, or PANORAMA_PASSWORD with PANORAMA_USERNAME, a Key Vault reference resolved with the app identity', () => {
    const expression = computedWith('PANORAMA_API_KEY');
    const [, apiKeyBranch, passwordBranch] =
      /^\[if\(empty\(parameters\('panoramaUsername'\)\), (createObject\('PANORAMA_API_KEY', .*\)\)), (createObject\('PANORAMA_USERNAME', .*\))\)\]$/.exec(
        expression,
      ) ?? [];

    expect(apiKeyBranch, expression).toBeDefined();
    expect(expandUserFunctions(appSettingsTemplate, apiKeyBranch as string)).toMatch(
      /@Microsoft\.KeyVault\(SecretUri=/,
    );
    expect(passwordBranch).toContain("'PANORAMA_PASSWORD', __bicep.keyVaultReference(");
    expect(passwordBranch).not.toContain('PANORAMA_API_KEY');
    expect(apiKeyBranch).not.toContain('PANORAMA_PASSWORD');
    expect(settingNames()).not.toEqual(expect.arrayContaining(['PANORAMA_API_KEY']));
    const [site] = findResources(main, 'Microsoft.Web/sites');
    expect(at(site?.value, 'properties.keyVaultReferenceIdentity')).toEqual(expect.any(String));
  });

  it('turns each token-authenticated cluster into a Key Vault reference named by its tokenSetting', () => {
    expect(appSettings.computed).toHaveLength(2);
    const expression = appSettings.computed.find((e) => e.includes("parameters('clusters')")) as string;

    expect(expression).toContain("parameters('clusters')");
    expect(expression).toContain('tokenSetting');
    expect(expandUserFunctions(appSettingsTemplate, expression)).toMatch(/@Microsoft\.KeyVault\(SecretUri=/);
  });

  it('describes clusters with exactly the fields shared/config accepts', () => {
    const definitions = main.definitions as JsonObject;
    const clusterType = definitions.clusterType as JsonObject;
    const tokenAuth = Object.entries(definitions).find(([name]) => name.endsWith('tokenAuthType'))?.[1];

    expect(Object.keys(clusterType.properties as JsonObject).sort()).toEqual(
      Object.keys(SAMPLE_CLUSTER).sort(),
    );
    expect(Object.keys(at(tokenAuth, 'properties') as JsonObject).sort()).toEqual(
      Object.keys(SAMPLE_TOKEN_CLUSTER.auth).sort(),
    );
    const settings = {
      ...deployedSettings(),
      CLUSTERS: JSON.stringify([SAMPLE_CLUSTER, SAMPLE_TOKEN_CLUSTER]),
      AKS_EDGE_TOKEN: 'token-resolved-from-key-vault',
    };
    expect(loadConfig(settings).clusters.map((c) => c.auth.type)).toEqual(['azureAd', 'token']);
  });
});

describe('secrets and storage', () => {
  it('never uses a storage key, a listKeys call or a connection string with a key', () => {
    const text = JSON.stringify(main);

    expect(text).not.toMatch(/listKeys|listAccountSas|listServiceSas/i);
    expect(text).not.toMatch(/AccountKey=|SharedAccessKey=|DefaultEndpointsProtocol=/i);
  });

  it('turns shared-key access and public blob access off and requires TLS 1.2 on every storage account', () => {
    const accounts = findResources(main, 'Microsoft.Storage/storageAccounts').filter(
      (r) => r.value.existing !== true,
    );

    expect(accounts.length).toBeGreaterThan(0);
    for (const account of accounts) {
      expect(at(account.value, 'properties.allowSharedKeyAccess')).toBe(false);
      expect(at(account.value, 'properties.allowBlobPublicAccess')).toBe(false);
      expect(at(account.value, 'properties.minimumTlsVersion')).toBe('TLS1_2');
      expect(at(account.value, 'properties.supportsHttpsTrafficOnly')).toBe(true);
    }
  });

  it('creates the queues and tables the app uses', () => {
    const storage = allTemplates(main).find((t) =>
      resourcesOf(t.template).some(
        (r) => r.type === 'Microsoft.Storage/storageAccounts/queueServices/queues',
      ),
    );

    expect(at(storage?.template, 'parameters.queueNames.defaultValue')).toEqual([
      RECOMPUTE_QUEUE,
      DELTA_QUEUE,
    ]);
    expect(at(storage?.template, 'parameters.tableNames.defaultValue')).toEqual([
      CLUSTER_STATE_TABLE,
      TARGET_STATE_TABLE,
      PANORAMA_PERMIT_TABLE,
    ]);
  });

  it('never outputs a secure parameter and passes secure values only into secure parameters', () => {
    for (const { template } of allTemplates(main)) {
      const params = (template.parameters ?? {}) as JsonObject;
      const secure = Object.entries(params)
        .filter(([, p]) => isObject(p) && /^secure/i.test(String(p.type)))
        .map(([name]) => name);
      const outputs = JSON.stringify(template.outputs ?? {});
      for (const name of secure) expect(outputs).not.toContain(`parameters('${name}')`);

      for (const module of resourcesOf(template).filter(
        (r) => r.type === 'Microsoft.Resources/deployments',
      )) {
        const passed = (at(module.value, 'properties.parameters') ?? {}) as JsonObject;
        const inner = (at(module.value, 'properties.template.parameters') ?? {}) as JsonObject;
        for (const [innerName, binding] of Object.entries(passed)) {
          if (!secure.some((name) => JSON.stringify(binding).includes(`parameters('${name}')`))) continue;
          expect(String(at(inner[innerName], 'type')), `${module.key}.${innerName}`).toMatch(/^secure/i);
        }
      }
    }
  });

  it('leaves every secure parameter out of the committed main.bicepparam', () => {
    const secure = Object.entries(main.parameters as JsonObject)
      .filter(([, p]) => isObject(p) && /^secure/i.test(String(p.type)))
      .map(([name]) => name);
    const assigned = [
      ...readFileSync(join(ROOT, 'infra/main.bicepparam'), 'utf8').matchAll(/^\s*param\s+(\w+)\s*=/gm),
    ].map((m) => m[1]);

    expect(secure.sort()).toEqual(['clusterTokens', 'panoramaApiKey', 'panoramaPassword']);
    expect(assigned.filter((name) => secure.includes(name as string))).toEqual([]);
  });

  it('keeps the Key Vault in RBAC mode with purge protection', () => {
    const [vault] = findResources(main, 'Microsoft.KeyVault/vaults').filter((r) => r.value.existing !== true);

    expect(at(vault?.value, 'properties.enableRbacAuthorization')).toBe(true);
    expect(at(vault?.value, 'properties.enablePurgeProtection')).toBe(true);
  });
});

describe('function app', () => {
  it('runs Node 22 on Flex Consumption as a user-assigned identity with identity-based deployment storage', () => {
    const [plan] = findResources(main, 'Microsoft.Web/serverfarms');
    const [site] = findResources(main, 'Microsoft.Web/sites');

    expect(at(plan?.value, 'sku')).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(at(site?.value, 'kind')).toBe('functionapp,linux');
    expect(at(site?.value, 'identity.type')).toBe('UserAssigned');
    expect(at(site?.value, 'properties.functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
    expect(at(site?.value, 'properties.functionAppConfig.scaleAndConcurrency')).toEqual({
      instanceMemoryMB: "[parameters('instanceMemoryMB')]",
      maximumInstanceCount: "[parameters('maximumInstanceCount')]",
    });
    expect(at(site?.value, 'properties.functionAppConfig.deployment.storage.authentication.type')).toBe(
      'UserAssignedIdentity',
    );
  });
});

describe('role assignments', () => {
  const assignments = () => findResources(main, 'Microsoft.Authorization/roleAssignments');

  it('assigns only the intended roles, each at its narrowest scope', () => {
    const assigned = new Set<string>();
    for (const a of assignments()) {
      const guids = roleGuids(a.template, at(a.value, 'properties.roleDefinitionId') as Json);
      expect(guids.length, a.key).toBeGreaterThan(0);
      const scope = a.value.scope;
      for (const guid of guids) {
        assigned.add(guid);
        const allowed = ROLE_SCOPES[guid];
        expect(allowed, `role ${guid} in ${[...a.path, a.key].join('/')}`).toBeDefined();
        const scopeType =
          scope !== undefined
            ? String(scope)
            : a.template.$schema.includes('subscriptionDeploymentTemplate')
              ? 'subscription'
              : 'resourceGroup';
        expect(
          allowed?.some((type) => scopeType === type || scopeType.includes(`'${type}`)),
          `${[...a.path, a.key].join('/')} assigns ${guid} at ${scopeType}`,
        ).toBe(true);
      }
    }

    expect([...assigned].sort()).toEqual(Object.values(ROLE).sort());
  });

  it('names every assignment guid(scope, principal, role)', () => {
    for (const a of assignments()) {
      const name = String(a.value.name);
      expect(name, a.key).toMatch(/^\[guid\(/);
      expect(name.toLowerCase(), a.key).toContain('principalid');
      expect(roleGuids(a.template, name).length, a.key).toBeGreaterThan(0);
    }
  });
});

describe('Event Grid', () => {
  it('subscribes onResourceEvent to successful cluster and load balancer writes and deletes only, in every subscription', () => {
    const subscriptions = findResources(main, 'Microsoft.EventGrid/systemTopics/eventSubscriptions');

    // This subscription's (module eventSubscription) and each other monitored subscription's (subscriptionEvents).
    expect(subscriptions.map((s) => s.path.join('/')).sort()).toEqual([
      'eventSubscription',
      'subscriptionEvents/eventSubscription',
    ]);
    for (const subscription of subscriptions) {
      const props = subscription.value.properties;
      expect(at(props, 'filter')).toEqual(EXPECTED_FILTER);
      expect(at(props, 'eventDeliverySchema')).toBe('EventGridSchema');
      expect(at(props, 'destination.endpointType')).toBe('AzureFunction');
      expect(at(props, 'destination.properties.maxEventsPerBatch')).toBe(1);
      expect(String(at(props, 'destination.properties.resourceId'))).toContain(
        'Microsoft.Web/sites/functions',
      );
      expect(String(at(props, 'destination.properties.resourceId'))).toContain(
        "parameters('functionAppSubscriptionId')",
      );
      expect(at(subscription.template, 'parameters.functionName.defaultValue')).toBe('onResourceEvent');
    }
  });

  it('gives every other monitored subscription a topic and, in phase two, an event subscription, unless timer-only', () => {
    const module = resourcesOf(main).find((r) => r.key === 'subscriptionEvents');
    const variables = main.variables as JsonObject;
    const monitored = String(variables.monitoredSubscriptions);
    const others = String(variables.otherEventSubscriptions);

    expect(at(module?.value, 'copy.count')).toBe("[length(variables('otherEventSubscriptions'))]");
    expect(at(module?.value, 'subscriptionId')).toBe("[variables('otherEventSubscriptions')[copyIndex()]]");
    expect(monitored).toContain("parameters('clusters')");
    expect(monitored).toContain("parameters('discoverySubscriptions')");
    expect(others).toContain("variables('deploymentSubscription')");
    expect(others).toContain("variables('skippedSubscriptions')");
    expect(String(variables.skippedSubscriptions)).toContain("parameters('timerOnlySubscriptions')");
    expect(at(module?.value, 'properties.parameters.deployEventSubscription.value')).toBe(
      "[parameters('deployEventSubscription')]",
    );
    expect(at(module?.value, 'properties.parameters.functionAppSubscriptionId.value')).toBe(
      '[subscription().subscriptionId]',
    );
    const inner = at(module?.value, 'properties.template') as ArmTemplate;
    const topicModule = resourcesOf(inner).find((r) => r.key === 'topic');
    const eventModule = resourcesOf(inner).find((r) => r.key === 'eventSubscription');
    expect(topicModule?.value.condition).toBe("[variables('createTopic')]");
    expect(eventModule?.value.condition).toBe("[parameters('deployEventSubscription')]");
    expect(at(main, 'parameters.timerOnlySubscriptions.defaultValue')).toEqual([]);
  });

  it('tells the app which subscriptions send events (EVENT_GRID_SUBSCRIPTIONS), "none" before phase two', () => {
    const setting = appSettings.settings.find((s) => s.name === 'EVENT_GRID_SUBSCRIPTIONS');
    const passed = at(
      resourcesOf(main).find((r) => r.key === 'functionApp')?.value,
      'properties.parameters.eventGridSubscriptions.value',
    );
    const value = String((main.variables as JsonObject).eventGridSubscriptions);

    expect(setting?.conditional).toBe(false);
    expect(passed).toBe("[variables('eventGridSubscriptions')]");
    expect(value).toMatch(
      /^\[if\(parameters\('deployEventSubscription'\), join\(concat\(createArray\(variables\('deploymentSubscription'\)\), variables\('otherEventSubscriptions'\)\), ','\), 'none'\)\]$/,
    );
    expect(
      loadConfig({ ...deployedSettings(), EVENT_GRID_SUBSCRIPTIONS: `${SUB},${SUB.replace('1', '2')}` })
        .eventGridSubscriptions,
    ).toHaveLength(2);
  });

  it('creates the event subscription only in the second phase', () => {
    const module = resourcesOf(main).find((r) =>
      JSON.stringify(r.value).includes('Microsoft.EventGrid/systemTopics/eventSubscriptions'),
    );

    expect(module?.value.condition).toBe("[parameters('deployEventSubscription')]");
    expect(at(main, 'parameters.deployEventSubscription.defaultValue')).toBe(false);
  });

  it('uses a Microsoft.Resources.Subscriptions system topic, created only when none is named', () => {
    const [topic] = findResources(main, 'Microsoft.EventGrid/systemTopics').filter(
      (r) => r.value.existing !== true && r.path.length === 1,
    );

    expect(at(topic?.value, 'properties.topicType')).toBe('Microsoft.Resources.Subscriptions');
    const module = resourcesOf(main).find((r) => r.key === topic?.path.at(-1));
    const condition = reachableStrings(main, module?.value.condition as Json).join('\n');
    expect(condition).toContain("empty(parameters('existingSystemTopicName'))");
  });
});

describe('secrets, the deployer and redeploys', () => {
  it('gives the deploying principal (azd AZURE_PRINCIPAL_ID) Key Vault Secrets Officer on the vault', () => {
    const deployer = findResources(main, 'Microsoft.Authorization/roleAssignments').find((a) =>
      String(at(a.value, 'properties.principalId')).includes("parameters('deployerPrincipalId')"),
    );
    const params = readFileSync(join(ROOT, 'infra/main.bicepparam'), 'utf8');

    expect(deployer, 'a role assignment for deployerPrincipalId').toBeDefined();
    expect(
      roleGuids(
        deployer?.template as ArmTemplate,
        at(deployer?.value, 'properties.roleDefinitionId') as Json,
      ),
    ).toEqual([ROLE.keyVaultSecretsOfficer]);
    expect(String(deployer?.value.scope)).toContain('Microsoft.KeyVault/vaults');
    expect(String(deployer?.value.condition)).toContain("not(empty(parameters('deployerPrincipalId')))");
    expect(params).toMatch(
      /^param deployerPrincipalId = readEnvironmentVariable\('AZURE_PRINCIPAL_ID', ''\)$/m,
    );
  });

  it('recovers a soft-deleted vault of the same name when asked (KEY_VAULT_CREATE_MODE from the preprovision hook)', () => {
    const [vault] = findResources(main, 'Microsoft.KeyVault/vaults').filter((r) => r.value.existing !== true);
    const params = readFileSync(join(ROOT, 'infra/main.bicepparam'), 'utf8');
    const azure = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
    const hook = readFileSync(join(ROOT, 'scripts/azd-preprovision.sh'), 'utf8');

    expect(at(vault?.value, 'properties.createMode')).toBe("[parameters('createMode')]");
    expect(at(vault?.template, 'parameters.createMode.allowedValues')).toEqual(['default', 'recover']);
    expect(at(main, 'parameters.keyVaultCreateMode.defaultValue')).toBe('default');
    expect(
      at(
        resourcesOf(main).find((r) => r.key === 'keyVault')?.value,
        'properties.parameters.createMode.value',
      ),
    ).toBe("[parameters('keyVaultCreateMode')]");
    expect(params).toMatch(
      /^param keyVaultCreateMode = readEnvironmentVariable\('KEY_VAULT_CREATE_MODE', 'default'\)$/m,
    );
    expect(azure).toMatch(
      /preprovision:\n\s+posix:\n\s+shell: sh\n\s+run: \.\/scripts\/azd-preprovision\.sh/,
    );
    expect(hook).toContain('azd env set KEY_VAULT_CREATE_MODE "$mode"');
    expect(hook).toContain('az keyvault show-deleted');
  });

  it('has no secret and no secret default in any committed parameter file, and writes secrets only from the hook', () => {
    const infra = join(ROOT, 'infra');
    const files = readdirSync(infra, { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.bicepparam$|parameters.*\.json$/.test(f),
    );
    const secure = allTemplates(main).flatMap(({ template }) =>
      Object.entries((template.parameters ?? {}) as JsonObject).filter(
        ([, p]) => isObject(p) && /^secure/i.test(String(p.type)),
      ),
    );

    expect(files).toContain('main.bicepparam');
    for (const file of files) {
      const text = readFileSync(join(infra, file), 'utf8');
      for (const name of ['panoramaApiKey', 'panoramaPassword', 'clusterTokens'])
        expect(text, file).not.toMatch(new RegExp(`^\\s*param\\s+${name}\\s*=|"${name}"\\s*:`, 'm'));
      expect(text, file).not.toMatch(/readEnvironmentVariable\('(PANORAMA_API_KEY|PANORAMA_PASSWORD)'/);
    }
    for (const [name, p] of secure) expect([{}, ''], name).toContainEqual(at(p, 'defaultValue'));
    const azure = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
    expect(azure).toMatch(
      /postprovision:\n\s+posix:\n\s+shell: sh\n\s+run: \.\/scripts\/azd-postprovision\.sh\n\s+interactive: true/,
    );
    const hook = readFileSync(join(ROOT, 'scripts/azd-postprovision.sh'), 'utf8');
    expect(hook).toContain('stty -echo');
    expect(hook).toMatch(/az keyvault secret set [^\n]*--file "\$file"/);
    expect(hook).not.toMatch(/--value/);
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toMatch(/^\.azure\/$/m);
  });

  it('tells the hook which secret to write (PANORAMA_SECRET_NAME): the API key, or the password with panoramaUsername', () => {
    const output = at(main, 'outputs.PANORAMA_SECRET_NAME.value');

    expect(output).toBe(
      "[if(empty(parameters('panoramaUsername')), parameters('panoramaApiKeySecretName'), parameters('panoramaPasswordSecretName'))]",
    );
  });
});

describe('alerts and the workbook', () => {
  const QUERY_FILES = {
    'poisoned-messages': 'poisonedMessages.kql',
    'failed-recomputes': 'failedRecomputes.kql',
    'held-removals': 'heldRemovals.kql',
    'rejected-entries': 'rejectedEntries.kql',
    'no-successful-push': 'noSuccessfulPush.kql',
    'not-reconciling': 'notReconciling.kql',
  } as const;
  const alertsTemplate = () =>
    allTemplates(main).find((t) =>
      resourcesOf(t.template).some((r) => r.type === 'Microsoft.Insights/scheduledQueryRules'),
    )?.template as ArmTemplate;

  it('raises a log alert on Application Insights for each signal, with the query of infra/queries/', () => {
    const template = alertsTemplate();
    const rules = (template.variables as JsonObject).rules as JsonObject[];
    const [rule] = findResources(main, 'Microsoft.Insights/scheduledQueryRules');

    expect(rules.map((r) => r.name).sort()).toEqual(Object.keys(QUERY_FILES).sort());
    for (const r of rules) {
      const query = reachableStrings(template, r.query as Json).filter((q) => !isExpression(q));
      const file = QUERY_FILES[r.name as keyof typeof QUERY_FILES];
      expect(query, String(r.name)).toEqual([readFileSync(join(ROOT, 'infra/queries', file), 'utf8')]);
      expect([1, 2], String(r.name)).toContain(r.severity);
    }
    expect(at(rule?.value, 'kind')).toBe('LogAlert');
    expect(at(rule?.value, 'properties.scopes')).toEqual([
      "[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]",
    ]);
    expect(at(rule?.value, 'properties.evaluationFrequency')).toBe('PT5M');
    expect(at(rule?.value, 'properties.autoMitigate')).toBe(true);
    expect(at(rule?.value, 'properties.actions.actionGroups')).toBe("[variables('actionGroups')]");
    const module = resourcesOf(main).find((r) => r.key === 'alerts');
    expect(at(module?.value, 'properties.parameters.applicationInsightsName.value')).toBe(
      "[variables('names').applicationInsights]",
    );
  });

  it('splits alerts by cluster and target, and counts sampled lines by itemCount', () => {
    const rules = (alertsTemplate().variables as JsonObject).rules as JsonObject[];
    const byName = Object.fromEntries(rules.map((r) => [r.name, r]));

    expect(at(byName['poisoned-messages'], 'dimensions')).toEqual(['cluster', 'target']);
    expect(at(byName['rejected-entries'], 'dimensions')).toEqual(['cluster', 'target']);
    expect(at(byName['held-removals'], 'dimensions')).toEqual(['cluster']);
    expect(at(byName['no-successful-push'], 'dimensions')).toEqual(['target']);
    expect(at(byName['not-reconciling'], 'operator')).toBe('LessThan');
    for (const file of Object.values(QUERY_FILES).filter((f) => f !== 'notReconciling.kql')) {
      expect(readFileSync(join(ROOT, 'infra/queries', file), 'utf8'), file).toMatch(/sum(if)?\(itemCount/);
    }
  });

  it('notifies an e-mail action group only when alertEmail is given', () => {
    const [group] = findResources(main, 'Microsoft.Insights/actionGroups');
    const module = resourcesOf(main).find((r) => r.key === 'alerts');

    expect(group?.value.condition).toBe("[not(empty(parameters('alertEmail')))]");
    expect(at(module?.value, 'properties.parameters.alertEmail.value')).toBe("[parameters('alertEmail')]");
    expect(at(main, 'parameters.alertEmail.defaultValue')).toBe('');
  });

  it('deploys a shared workbook on Application Insights with clusters, targets, signals and recent errors', () => {
    const [workbook] = findResources(main, 'Microsoft.Insights/workbooks');
    const items = at(workbook?.template, 'variables.items') as Json[];
    const text = JSON.stringify(items);

    expect(at(workbook?.value, 'kind')).toBe('shared');
    expect(at(workbook?.value, 'properties.category')).toBe('workbook');
    expect(at(workbook?.value, 'properties.sourceId')).toBe(
      "[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]",
    );
    expect(String(at(workbook?.value, 'properties.serializedData'))).toContain("'Notebook/1.0'");
    for (const name of ['clusters', 'targets', 'signals', 'errors']) expect(text).toContain(`'${name}'`);
    for (const needle of [
      'recompute done',
      'push done',
      'severityLevel >= 3',
      'fields.cluster',
      'fields.target',
    ])
      expect(text).toContain(needle);
  });
});

describe('template conventions', () => {
  it('describes every parameter Required./Optional./Conditional. and every output', () => {
    for (const { path, template } of allTemplates(main)) {
      for (const [name, param] of Object.entries((template.parameters ?? {}) as JsonObject)) {
        expect(String(at(param, 'metadata.description')), `${path.join('/')}:${name}`).toMatch(
          /^(Required|Optional|Conditional)\. /,
        );
      }
      for (const [name, output] of Object.entries((template.outputs ?? {}) as JsonObject)) {
        expect(at(output, 'metadata.description'), `${path.join('/')}:${name}`).toEqual(expect.any(String));
      }
    }
  });

  it('names the outputs of main.bicep in UPPER_SNAKE and outputs what operators need next', () => {
    const outputs = Object.keys(main.outputs as JsonObject);

    for (const name of outputs) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'AZURE_FUNCTION_APP_NAME',
        'MANAGED_IDENTITY_PRINCIPAL_ID',
        'MANAGED_IDENTITY_CLIENT_ID',
        'STORAGE_ACCOUNT_NAME',
        'KEY_VAULT_NAME',
      ]),
    );
  });
});
