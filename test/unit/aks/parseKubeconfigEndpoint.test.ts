import { describe, expect, it } from 'vitest';
import { parseKubeconfigEndpoint } from '../../../shared/aks/parseKubeconfigEndpoint.js';
import { InputError } from '../../../shared/errors.js';

const YAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://aks-1-dns-1a2b.hcp.westeurope.azmk8s.io:443
  name: aks-1
- cluster:
    server: https://other:443
  name: other
contexts:
- context:
    cluster: aks-1
    user: clusterUser_rg_aks-1
  name: aks-1
current-context: aks-1
kind: Config
users:
- name: clusterUser_rg_aks-1
  user:
    token: super-secret-user-token-0001
`;

describe('parseKubeconfigEndpoint', () => {
  it('reads the current cluster server and CA from YAML text, bytes or base64', () => {
    const expected = {
      server: 'https://aks-1-dns-1a2b.hcp.westeurope.azmk8s.io:443',
      caData: 'Q0EtREFUQQ==',
    };
    expect(parseKubeconfigEndpoint(YAML)).toEqual(expected);
    expect(parseKubeconfigEndpoint(new TextEncoder().encode(YAML))).toEqual(expected);
    expect(parseKubeconfigEndpoint(Buffer.from(YAML).toString('base64'))).toEqual(expected);
  });

  it('falls back to the first cluster without a current context', () => {
    const noContext = YAML.replace('current-context: aks-1\n', '');
    expect(parseKubeconfigEndpoint(noContext).server).toBe(
      'https://aks-1-dns-1a2b.hcp.westeurope.azmk8s.io:443',
    );
  });

  it('never echoes the kubeconfig when it cannot be parsed', () => {
    const broken = `${YAML}\n  : : [unclosed`;
    let err: unknown;
    try {
      parseKubeconfigEndpoint(broken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(String((err as Error).message)).not.toContain('super-secret-user-token-0001');
    expect(() => parseKubeconfigEndpoint('apiVersion: v1\nclusters: []\n')).toThrow(
      'names no cluster server',
    );
  });
});
