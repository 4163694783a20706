const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

/** One field the API server's validation refuses, worded as it words it. */
export interface FieldProblem {
  field: string;
  message: string;
}

const q = (v: unknown) => JSON.stringify(v);

function nameProblem(name: unknown): FieldProblem | undefined {
  if (name === undefined || name === '')
    return { field: 'metadata.name', message: 'Required value: name or generateName is required' };
  if (typeof name === 'string' && name.length <= 63 && DNS_1035.test(name)) return undefined;
  return {
    field: 'metadata.name',
    message: `Invalid value: ${q(name)}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  };
}

function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_1123_SUBDOMAIN.test(prefix)))
    return `prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`;
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!LABEL_NAME.test(name))
    return `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`;
  return undefined;
}

function labelProblems(labels: unknown): FieldProblem[] {
  if (labels === undefined) return [];
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    return [{ field: 'metadata.labels', message: 'Invalid value: must be a map of strings' }];
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem)
      problems.push({ field: 'metadata.labels', message: `Invalid value: ${q(key)}: ${keyProblem}` });
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value))
      problems.push({
        field: `metadata.labels`,
        message: `Invalid value: ${q(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
  }
  return problems;
}

function specProblems(spec: Record<string, unknown>): FieldProblem[] {
  const type = spec.type ?? 'ClusterIP';
  if (typeof type !== 'string' || !TYPES.includes(type))
    return [
      {
        field: 'spec.type',
        message: `Unsupported value: ${q(type)}: supported values: ${TYPES.map((t) => q(t)).join(', ')}`,
      },
    ];
  const ports = spec.ports;
  const headless = type === 'ClusterIP' && spec.clusterIP === 'None';
  if (type !== 'ExternalName' && !headless && (!Array.isArray(ports) || ports.length === 0))
    return [{ field: 'spec.ports', message: 'Required value' }];
  return [];
}

/**
 * What the API server's validation refuses in a Service (name, label keys and values, type,
 * ports), in its words; empty when the Service is valid. Pure.
 */
export function serviceWriteProblems(service: Record<string, unknown>): FieldProblem[] {
  const metadata = (service.metadata ?? {}) as Record<string, unknown>;
  const spec = (service.spec ?? {}) as Record<string, unknown>;
  const name = nameProblem(metadata.name);
  return [...(name ? [name] : []), ...labelProblems(metadata.labels), ...specProblems(spec)];
}
