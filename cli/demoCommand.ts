import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Service,
} from '@kubernetes/client-node';
import { demoLoadBalancerEvent } from '../host/startDemo.js';
import { parseClusters } from '../shared/config/loadConfig.js';
import {
  DEMO_SETTINGS_FILE,
  type DemoSettingsFile,
  readDemoSettings,
} from '../shared/config/localSettings.js';
import { InputError } from '../shared/errors.js';
import { INTERNAL_LB_ANNOTATION, isInternalLoadBalancer } from '../shared/tags/isInternalLoadBalancer.js';
import { isCanonicalIpv4 } from '../shared/tags/normalizeIp.js';
import { postEventGridEvents } from '../sim/eventGrid/armResourceEvent.js';
import { AZURE_LB_IPV4_ANNOTATION } from '../sim/kubernetes/assignLoadBalancerIngress.js';
import { type CliIo, type Command, ExitCode } from './CliIo.js';

const HELP = `Usage: aks-panorama-sync demo add NAMESPACE/NAME [--ip IP] [--label KEY=VALUE]... [--public]
       aks-panorama-sync demo label NAMESPACE/NAME KEY=VALUE... KEY-...
       aks-panorama-sync demo delete NAMESPACE/NAME
       aks-panorama-sync demo list

Changes the simulated AKS cluster of the running demo ("npm start" in this directory) through its
Kubernetes API, as kubectl would, then posts the Microsoft.Network/loadBalancers/write event AKS's
load balancer change raises to the local host's Event Grid webhook. Tags follow within seconds.

  add     a LoadBalancer Service, internal unless --public; --ip asks for that IP (the
          azure-load-balancer-ipv4 annotation), else the simulator assigns a free one as AKS would
  label   sets KEY=VALUE labels and removes KEY- ones (a merge patch)
  delete  deletes the Service
  list    the Services of the simulated cluster, their IPs and labels

Exit 2 when no demo runs here or an argument is wrong, 1 when the cluster refused the change.
`;

/** The running demo's Kubernetes API client and Event Grid webhook. */
interface DemoTarget {
  api: CoreV1Api;
  demo: DemoSettingsFile;
  cluster: string;
}

function connect(io: CliIo): DemoTarget {
  const { demo, stale } = readDemoSettings(io.cwd);
  if (!demo) {
    const why = stale ?? `there is no ${DEMO_SETTINGS_FILE} in ${io.cwd}`;
    throw new InputError(
      `no demo is running here: ${why}. Start it with "npm start" in this directory first`,
    );
  }
  const cluster = parseClusters(demo.Values.CLUSTERS, demo.Values, [])[0];
  if (!cluster?.server || cluster.auth.type !== 'token')
    throw new InputError(`${DEMO_SETTINGS_FILE}: CLUSTERS has no simulated cluster with a server and token`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: cluster.name, server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}) },
    ],
    users: [{ name: 'demo', token: cluster.auth.token }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'demo' }],
    currentContext: cluster.name,
  });
  return { api: kc.makeApiClient(CoreV1Api), demo, cluster: cluster.name };
}

function parseRef(text: string | undefined): { namespace: string; name: string } {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text ?? '');
  if (!m) throw new InputError(`expected NAMESPACE/NAME, got ${JSON.stringify(text ?? '')}`);
  return { namespace: m[1] as string, name: m[2] as string };
}

/** `KEY=VALUE` → set, `KEY-` → remove (`null` in a merge patch). */
function parseLabelArg(arg: string): [string, string | null] {
  const eq = arg.indexOf('=');
  if (eq > 0) return [arg.slice(0, eq), arg.slice(eq + 1)];
  if (arg.length > 1 && arg.endsWith('-') && !arg.includes('=')) return [arg.slice(0, -1), null];
  throw new InputError(`expected KEY=VALUE or KEY- (remove), got ${JSON.stringify(arg)}`);
}

function addedService(args: string[]): { namespace: string; body: V1Service; summary: string } {
  const { namespace, name } = parseRef(args[0]);
  const labels: Record<string, string> = {};
  let ip: string | undefined;
  let pub = false;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new InputError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--ip') ip = value();
    else if (arg === '--label') {
      const [k, v] = parseLabelArg(value());
      if (v === null) throw new InputError(`--label expects KEY=VALUE, got ${JSON.stringify(`${k}-`)}`);
      labels[k] = v;
    } else if (arg === '--public') pub = true;
    else throw new InputError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (ip !== undefined && !isCanonicalIpv4(ip))
    throw new InputError(`--ip: not an IPv4 address: ${JSON.stringify(ip)}`);
  const annotations = {
    ...(pub ? {} : { [INTERNAL_LB_ANNOTATION]: 'true' }),
    ...(ip ? { [AZURE_LB_IPV4_ANNOTATION]: ip } : {}),
  };
  const body: V1Service = {
    metadata: { name, namespace, labels, annotations },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
  };
  return { namespace, body, summary: `${pub ? 'public' : 'internal'} load balancer` };
}

const ipsOf = (s: V1Service) =>
  (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).join(',');
const labelsOf = (s: V1Service) =>
  Object.entries(s.metadata?.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

async function change(target: DemoTarget, args: string[], io: CliIo): Promise<string> {
  const [verb, ...rest] = args;
  if (verb === 'add') {
    const { namespace, body, summary } = addedService(rest);
    const s = await target.api.createNamespacedService({ namespace, body });
    return `created Service ${namespace}/${s.metadata?.name} (${summary}, IP ${ipsOf(s) || 'pending'}, labels ${labelsOf(s) || '-'})`;
  }
  const { namespace, name } = parseRef(rest[0]);
  if (verb === 'delete') {
    if (rest.length > 1)
      throw new InputError(`delete takes only NAMESPACE/NAME, got ${JSON.stringify(rest[1])} too`);
    const s = await target.api.deleteNamespacedService({ namespace, name });
    return `deleted Service ${namespace}/${name} (IP ${ipsOf(s) || 'none'})`;
  }
  if (rest.length < 2) throw new InputError('label needs at least one KEY=VALUE or KEY-');
  const labels = Object.fromEntries(rest.slice(1).map(parseLabelArg));
  const s = await target.api.patchNamespacedService(
    { namespace, name, body: { metadata: { labels } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  io.stdout(
    'note: a label change does not touch the Azure load balancer, so AKS raises no event for it; the demo\n',
  );
  io.stdout(
    '      posts one anyway (a real deployment sees it at the next reconcile, every 5 minutes by default)\n',
  );
  return `labelled Service ${namespace}/${name}: ${labelsOf(s) || 'no labels'} (IP ${ipsOf(s) || 'pending'})`;
}

async function list(target: DemoTarget, io: CliIo): Promise<number> {
  const { items } = await target.api.listServiceForAllNamespaces();
  io.stdout(`Services of the simulated cluster ${target.cluster}:\n`);
  for (const s of items) {
    const kind =
      s.spec?.type === 'LoadBalancer'
        ? isInternalLoadBalancer(s)
          ? 'internal LB'
          : 'public LB'
        : s.spec?.type;
    const ref = `${s.metadata?.namespace}/${s.metadata?.name}`;
    io.stdout(
      `  ${ref.padEnd(28)} ${String(kind).padEnd(12)} ${(ipsOf(s) || '-').padEnd(15)} ${labelsOf(s) || '-'}\n`,
    );
  }
  return ExitCode.ok;
}

function refusal(err: ApiException<unknown>): string {
  let message = `HTTP ${err.code}`;
  try {
    const status = JSON.parse(String(err.body)) as { message?: string; reason?: string };
    message = `${status.message} (${err.code} ${status.reason})`;
  } catch {
    // A body that is not a Status: the code says enough.
  }
  return message;
}

/**
 * `demo add|label|delete|list`: changes the running demo's simulated cluster through its Kubernetes
 * API with client-node, then posts the load balancer write event to the local host's webhook.
 */
export const demoCommand: Command = async (args, io) => {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h') {
    (args.length === 0 ? io.stderr : io.stdout)(HELP);
    return args.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (!['add', 'label', 'delete', 'list'].includes(args[0] as string))
    throw new InputError(`unknown demo command ${JSON.stringify(args[0])} (add, label, delete or list)`);
  const target = connect(io);
  try {
    if (args[0] === 'list') return await list(target, io);
    io.stdout(`${await change(target, args, io)} on the simulated cluster ${target.cluster}\n`);
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    io.stderr(`aks-panorama-sync demo: the simulated cluster refused: ${refusal(err)}\n`);
    return ExitCode.failed;
  }
  try {
    await postEventGridEvents(target.demo.hostUrl, 'onResourceEvent', [demoLoadBalancerEvent()]);
  } catch (err) {
    io.stderr(
      `aks-panorama-sync demo: the change is made, but the local host at ${target.demo.hostUrl} did not take the event (${(err as Error).message}); the next reconcile picks it up\n`,
    );
    return ExitCode.failed;
  }
  io.stdout(
    `posted a Microsoft.Network/loadBalancers/write event to ${target.demo.hostUrl}/runtime/webhooks/eventgrid\n`,
  );
  io.stdout('tags follow within seconds; see "status", "status --target <firewall>" or "explain <IP>"\n');
  return ExitCode.ok;
};
