import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type NamedSelector, parseClusters } from '../shared/config/loadConfig.js';
import { effectiveSettings } from '../shared/config/localSettings.js';
import { ConfigError, InputError } from '../shared/errors.js';
import type { KubeService } from '../shared/kubernetes/KubeService.js';
import { parseLabelSelector } from '../shared/selectors/parseLabelSelector.js';
import { computeIpTags } from '../shared/tags/computeIpTags.js';
import { ipTagMapToJson } from '../shared/tags/IpTagMap.js';
import {
  invalidClusterNameMessage,
  invalidSelectorNameMessage,
  isClusterName,
  isSelectorName,
} from '../shared/tags/tagGrammar.js';
import { type CliIo, type Command, ExitCode, readAll } from './CliIo.js';

const USAGE = 'tags --cluster NAME [--selector NAME=SELECTOR]... [--live] [FILE]';

const HELP = `Usage: aks-panorama-sync ${USAGE}

Prints the IP tags of the internal load-balancer Services in a Kubernetes ServiceList as JSON
({"<ip>": ["tag", ...]}). The list is read from FILE, or from stdin when FILE is absent or "-",
e.g. kubectl get svc -A -o json | aks-panorama-sync tags --cluster aks-prod-1 --selector web=app=web

  --cluster NAME             the AKS cluster name used in the tags (required)
  --selector NAME=SELECTOR   a label selector tagging matching Services aks_NAME.<cluster>.<service>;
                             repeatable; the text after the first "=" is the selector
  --live                     list the Services of the configured cluster NAME instead of reading input;
                             its configured selectors apply unless --selector is given
Warnings and errors about single Services go to stderr, one line each.
`;

/** A problem with the arguments or the input: one line on stderr, exit code 2. */
class UsageError extends Error {}

interface TagsArgs {
  cluster: string;
  selectors: NamedSelector[];
  live: boolean;
  file?: string;
  help: boolean;
}

function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: keeps each message on one line
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function parseSelectorArg(arg: string, seen: Set<string>): NamedSelector {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`--selector expects NAME=SELECTOR, got ${JSON.stringify(arg)}`);
  const name = arg.slice(0, eq);
  const source = arg.slice(eq + 1);
  if (!isSelectorName(name))
    throw new UsageError(invalidSelectorNameMessage(JSON.stringify(name), '--selector name'));
  if (seen.has(name)) throw new UsageError(`--selector name "${name}" is given twice`);
  seen.add(name);
  try {
    return { name, source, selector: parseLabelSelector(source) };
  } catch (err) {
    if (err instanceof InputError)
      throw new UsageError(`invalid --selector ${name}=${JSON.stringify(source)}: ${err.message}`);
    throw err;
  }
}

function parseArgs(args: readonly string[]): TagsArgs {
  let cluster: string | undefined;
  let file: string | undefined;
  let live = false;
  let help = false;
  let optionsEnded = false;
  const selectors: NamedSelector[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = optionsEnded ? undefined : /^(--[a-z-]+)(?:=(.*))?$/s.exec(arg);
    const valueFor = (name: string): string => {
      if (flag?.[2] !== undefined) return flag[2];
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${name} needs a value`);
      return next;
    };
    if (flag?.[1] === '--cluster') {
      if (cluster !== undefined) throw new UsageError('--cluster is given twice');
      cluster = valueFor('--cluster');
    } else if (flag?.[1] === '--selector') selectors.push(parseSelectorArg(valueFor('--selector'), seen));
    else if (flag?.[1] === '--live' && flag[2] === undefined) live = true;
    else if (flag?.[1] === '--help' || (!optionsEnded && arg === '-h')) help = true;
    else if (!optionsEnded && arg === '--') optionsEnded = true;
    else if (!optionsEnded && arg.startsWith('-') && arg !== '-')
      throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    else if (file !== undefined)
      throw new UsageError(`only one FILE may be given, got ${JSON.stringify(arg)} too`);
    else file = arg;
  }
  if (help) return { cluster: '', selectors, live, help };
  if (cluster === undefined) throw new UsageError('missing --cluster NAME');
  if (!isClusterName(cluster)) throw new UsageError(invalidClusterNameMessage(JSON.stringify(cluster)));
  if (live && file !== undefined) throw new UsageError('give either --live or FILE, not both');
  return { cluster, selectors, live, help, ...(file === undefined ? {} : { file }) };
}

/** The Services of a parsed ServiceList, List (as `kubectl get -o json` prints), array or single Service. */
function servicesOf(json: unknown, io: CliIo): KubeService[] {
  let items: unknown[];
  if (Array.isArray(json)) items = json;
  else if (typeof json === 'object' && json !== null) {
    const o = json as { kind?: unknown; items?: unknown };
    if (o.kind === 'Service') items = [json];
    else if (
      (o.kind === 'ServiceList' || o.kind === 'List' || o.kind === undefined) &&
      Array.isArray(o.items)
    )
      items = o.items;
    else if (o.kind === 'ServiceList' || o.kind === 'List')
      throw new UsageError(`the ${o.kind} has no "items" array`);
    else
      throw new UsageError(
        `expected a ServiceList, a List or an array of Services, got ${typeof o.kind === 'string' ? `kind ${JSON.stringify(o.kind)}` : 'an object without kind and items'}`,
      );
  } else
    throw new UsageError(
      `expected a ServiceList, a List or an array of Services, got ${JSON.stringify(json)}`,
    );
  const services = items.filter(
    (item) =>
      (item as { kind?: unknown } | null)?.kind === undefined ||
      (item as { kind?: unknown }).kind === 'Service',
  );
  const skipped = items.length - services.length;
  if (skipped > 0)
    io.stderr(
      `warning: skipped ${skipped} item${skipped === 1 ? '' : 's'} that ${skipped === 1 ? 'is' : 'are'} not a Service\n`,
    );
  return services as KubeService[];
}

async function readInput(file: string | undefined, io: CliIo): Promise<KubeService[]> {
  let text: string;
  const source = file === undefined || file === '-' ? 'stdin' : file;
  if (source === 'stdin') text = await readAll(io.stdin);
  else {
    try {
      text = await readFile(resolve(io.cwd, source), 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${source}: ${(err as Error).message}`);
    }
  }
  if (text.trim() === '') throw new UsageError(`${source} is empty; expected a ServiceList JSON`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  return servicesOf(json, io);
}

function configuredSelectors(cluster: string, io: CliIo): NamedSelector[] {
  const settings = effectiveSettings(io.env, io.cwd);
  const clusters = parseClusters(settings.CLUSTERS, settings, []);
  return clusters.find((c) => c.name.toLowerCase() === cluster.toLowerCase())?.labelSelectors ?? [];
}

async function loadServices(
  args: TagsArgs,
  io: CliIo,
): Promise<{ services: KubeService[]; selectors: NamedSelector[] }> {
  if (!args.live) return { services: await readInput(args.file, io), selectors: args.selectors };
  const { loadLiveServices } = await import('./liveServices.js');
  const services = await loadLiveServices(args.cluster, io);
  return {
    services,
    selectors: args.selectors.length > 0 ? args.selectors : configuredSelectors(args.cluster, io),
  };
}

/**
 * `tags --cluster NAME [--selector NAME=SELECTOR]… [--live] [FILE]`: prints `{"<ip>": [tags]}` for
 * a ServiceList (FILE or stdin) or, with `--live`, for the configured cluster's Services. Issues
 * about single Services go to stderr and do not change the exit code; bad arguments or input exit 2.
 */
export const tagsCommand: Command = async (args, io) => {
  try {
    const parsed = parseArgs(args);
    if (parsed.help) {
      io.stdout(HELP);
      return ExitCode.ok;
    }
    const { services, selectors } = await loadServices(parsed, io);
    const { tags, issues } = computeIpTags(services, { cluster: parsed.cluster, selectors });
    for (const issue of issues) io.stderr(`${issue.severity}: ${oneLine(issue.message)}\n`);
    io.stdout(`${JSON.stringify(ipTagMapToJson(tags), null, 2)}\n`);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof UsageError || err instanceof InputError) {
      io.stderr(`aks-panorama-sync tags: ${oneLine(err.message)} (usage: ${USAGE})\n`);
      return ExitCode.usage;
    }
    if (err instanceof ConfigError) {
      io.stderr(`aks-panorama-sync tags: invalid configuration: ${oneLine(err.problems.join('; '))}\n`);
      return ExitCode.usage;
    }
    throw err;
  }
};
