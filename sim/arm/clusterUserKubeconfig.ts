import { randomBytes } from 'node:crypto';
import type { StoredArmCluster } from './ArmClusterStore.js';

/** What {@link clusterUserKubeconfig} needs besides the cluster. */
export interface KubeconfigOptions {
  /** `format` of `listClusterUserCredential` (`azure` = the legacy auth-provider user; default exec/kubelogin). */
  format: string | undefined;
  tenantId: string;
  /** PEM of the CA named when the cluster's `apiServer` gives none. */
  defaultCaPem: string;
}

/**
 * The kubeconfig YAML `listClusterUserCredential` returns for a cluster: its `apiServer` (default the
 * public FQDN) and a user as AKS writes it (local account, or Entra ID via kubelogin / auth-provider).
 */
export function clusterUserKubeconfig(c: StoredArmCluster, options: KubeconfigOptions): string {
  const { input } = c;
  const server = input.apiServer?.url ?? `https://${c.fqdn}:443`;
  const ca = input.apiServer?.caData ?? Buffer.from(options.defaultCaPem).toString('base64');
  const user = `clusterUser_${input.resourceGroup}_${input.name}`;
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${ca}`,
    `    server: ${server}`,
    `  name: ${input.name}`,
    'contexts:',
    '- context:',
    `    cluster: ${input.name}`,
    `    user: ${user}`,
    `  name: ${input.name}`,
    `current-context: ${input.name}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
    userSection(input.aad ?? true, options),
    '',
  ].join('\n');
}

function userSection(aad: boolean, options: KubeconfigOptions): string {
  if (!aad) return localAccountUser();
  if (options.format === 'azure') return azureAuthProviderUser(options.tenantId);
  return kubeloginExecUser(options.tenantId);
}

function localAccountUser(): string {
  return [
    `    client-certificate-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nsimulated\n-----END CERTIFICATE-----\n').toString('base64')}`,
    `    client-key-data: ${Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nsimulated\n-----END RSA PRIVATE KEY-----\n').toString('base64')}`,
    `    token: ${randomBytes(32).toString('hex')}`,
  ].join('\n');
}

function azureAuthProviderUser(tenantId: string): string {
  return [
    '    auth-provider:',
    '      config:',
    '        apiserver-id: 6dae42f8-4368-4678-94ff-3960e28e3630',
    '        client-id: 80faf920-1908-4b52-b5ef-a8e7bedfc67a',
    '        config-mode: "1"',
    '        environment: AzurePublicCloud',
    `        tenant-id: ${tenantId}`,
    '      name: azure',
  ].join('\n');
}

function kubeloginExecUser(tenantId: string): string {
  return [
    '    exec:',
    '      apiVersion: client.authentication.k8s.io/v1beta1',
    '      args:',
    '      - get-token',
    '      - --environment',
    '      - AzurePublicCloud',
    '      - --server-id',
    '      - 6dae42f8-4368-4678-94ff-3960e28e3630',
    '      - --client-id',
    '      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a',
    '      - --tenant-id',
    `      - ${tenantId}`,
    '      - --login',
    '      - devicecode',
    '      command: kubelogin',
    '      env: null',
    '      installHint: |2',
    '',
    '        kubelogin is not installed which is required to connect to AAD enabled cluster.',
    '',
    '        To learn more, please go to https://aka.ms/aks/kubelogin',
    '      interactiveMode: IfNeeded',
    '      provideClusterInfo: false',
  ].join('\n');
}
