import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  emptySelectorMessage,
  type NamedSelector,
  parseClusters,
  tagBudgetSetting,
} from '../shared/config/loadConfig.js';
import { ConfigError, InputError } from '../shared/errors.js';
import type { KubeService } from '../shared/kubernetes/KubeService.js';
import { type LabelSelector, parseLabelSelector } from '../shared/selectors/parseLabelSelector.js';
import { type ComputeIpTagsOptions, computeIpTags, tagOptionsOf } from '../shared/tags/computeIpTags.js';
import { ipTagMapToJson } from '../shared/tags/IpTagMap.js';
import { type LabelTagFilter, labelGlobProblem } from '../shared/tags/labelTagFilter.js';
import {
  invalidClusterNameMessage,
  invalidSelectorNameMessage,
  isClusterName,
  isSelectorName,
  isTagBudget,
  TAG_BUDGET_RULE,
} from '../shared/tags/tagGrammar.js';
import { type CliIo, type Command, ExitCode, readAll } from './CliIo.js';
import { cliIoWithSettings } from './cliRuntime.js';
import { skippedServices, skippedSummary } from './skippedServices.js';

const USAGE =
  'tags --cluster NAME [--selector NAME=SELECTOR]... [--include-label GLOB]... [--exclude-label GLOB]... [--namespace-tags] [--max-tags N] [--live] [--verbose] [FILE]';

const HELP = `Usage: aks-panorama-sync ${USAGE}

Prints the IP tags of the internal load-balancer Services in a Kubernetes ServiceList as JSON
({"<ip>": ["tag", ...]}). The list is read from FILE, or from stdin when FILE is absent or "-",
e.g. kubectl get svc -A -o json | aks-panorama-sync tags --cluster aks-prod-1 --selector web=app=web

  --cluster NAME             the AKS cluster name used in the tags (required)
  --selector NAME=SELECTOR   a label selector tagging matching Services aks_NAME.<cluster>.<service>;
                             repeatable; the text after the first "=" is the selector, in Kubernetes
                             syntax (=, ==, !=, in, notin, key, !key, >, <), and must not be empty
  --include-label GLOB       tag only the labels whose key matches GLOB (repeatable); without it every
                             label is tagged. In GLOB "*" matches any run of characters, "/" included;
                             everything else is literal and case-sensitive
  --exclude-label GLOB       do not tag the labels whose key matches GLOB (repeatable; applied after
                             --include-label), e.g. --exclude-label helm.sh/chart
                             Selectors match on every label, whether it is tagged or not.
  --namespace-tags           also tag every IP of a Service with aks.<cluster>.ns.<namespace>
  --max-tags N               the most tags one IP gets, 1-32 (default 32, the PAN-OS limit); an IP
                             with more keeps its Service tags, then namespace tags, then selector
                             tags, then label tags by key and value, and a warning names the IP, its
                             Services and the tags left out
  --live                     list the Services of the configured cluster NAME instead of reading input;
                             its configured labelSelectors, labelTags, namespaceTags and maxTagsPerIp
                             (or MAX_TAGS_PER_IP) apply unless the options above replace them
                             (--namespace-tags can only turn namespace tags on); in the directory of a
                             running demo ("npm start") it reads the demo's simulated cluster
  -v, --verbose              name each Service that gets no tags and why (not a LoadBalancer, public
                             load balancer, no IP yet, invalid IP, no name); without it one line
                             counts them
Warnings and errors go to stderr, one line each, and leave the exit code at 0: single Services that
could not be tagged, shortened tags, IPs cut to their budget, a Service tag standing for Services of
several namespaces, a selector that matches no Service, and "note: skipped N of M Services" (always).
Bad arguments or input exit 2.
`;

/** A problem with the arguments or the input: one line on stderr, exit code 2. */
class UsageError extends Error {}

interface TagsArgs {
  cluster: string;
  selectors: NamedSelector[];
  /** `--include-label` globs; `undefined` when none was given. */
  include?: string[];
  exclude: string[];
  namespaceTags: boolean;
  maxTagsPerIp?: number;
  live: boolean;
  verbose: boolean;
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
  let selector: LabelSelector;
  try {
    selector = parseLabelSelector(source);
  } catch (err) {
    if (err instanceof InputError)
      throw new UsageError(`invalid --selector ${name}=${JSON.stringify(source)}: ${err.message}`);
    throw err;
  }
  if (selector.requirements.length === 0)
    throw new UsageError(`invalid --selector ${name}: ${emptySelectorMessage(source)}`);
  return { name, source, selector };
}

function parseGlobArg(flag: string, glob: string): string {
  const problem = labelGlobProblem(glob);
  if (problem !== undefined) throw new UsageError(`invalid ${flag} ${JSON.stringify(glob)}: it ${problem}`);
  return glob;
}

function parseBudgetArg(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!isTagBudget(n))
    throw new UsageError(`--max-tags expects ${TAG_BUDGET_RULE}, got ${JSON.stringify(text)}`);
  return n;
}

/** Applies one option to `out`; returns false when `flag` is not one of the options with a value. */
function applyValueOption(out: TagsArgs, flag: string, value: () => string, seen: Set<string>): boolean {
  if (flag === '--cluster') {
    if (out.cluster !== '') throw new UsageError('--cluster is given twice');
    out.cluster = value();
  } else if (flag === '--selector') out.selectors.push(parseSelectorArg(value(), seen));
  else if (flag === '--include-label') out.include = [...(out.include ?? []), parseGlobArg(flag, value())];
  else if (flag === '--exclude-label') out.exclude.push(parseGlobArg(flag, value()));
  else if (flag === '--max-tags' || flag === '--max-tags-per-ip') {
    if (out.maxTagsPerIp !== undefined) throw new UsageError(`${flag} is given twice`);
    out.maxTagsPerIp = parseBudgetArg(value());
  } else return false;
  return true;
}

function parseArgs(args: readonly string[]): TagsArgs {
  const out: TagsArgs = {
    cluster: '',
    selectors: [],
    exclude: [],
    namespaceTags: false,
    live: false,
    verbose: false,
    help: false,
  };
  let clusterGiven = false;
  let optionsEnded = false;
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = optionsEnded ? undefined : /^(--[a-z-]+)(?:=(.*))?$/s.exec(arg);
    const valueFor = (name: string) => (): string => {
      if (flag?.[2] !== undefined) return flag[2];
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${name} needs a value`);
      return next;
    };
    if (flag && applyValueOption(out, flag[1] as string, valueFor(flag[1] as string), seen)) {
      clusterGiven ||= flag[1] === '--cluster';
    } else if (flag?.[1] === '--live' && flag[2] === undefined) out.live = true;
    else if (flag?.[1] === '--namespace-tags' && flag[2] === undefined) out.namespaceTags = true;
    else if ((flag?.[1] === '--verbose' && flag[2] === undefined) || (!optionsEnded && arg === '-v'))
      out.verbose = true;
    else if (flag?.[1] === '--help' || (!optionsEnded && arg === '-h')) out.help = true;
    else if (!optionsEnded && arg === '--') optionsEnded = true;
    else if (!optionsEnded && arg.startsWith('-') && arg !== '-')
      throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    else if (out.file !== undefined)
      throw new UsageError(`only one FILE may be given, got ${JSON.stringify(arg)} too`);
    else out.file = arg;
  }
  if (out.help) return out;
  if (!clusterGiven) throw new UsageError('missing --cluster NAME');
  if (!isClusterName(out.cluster))
    throw new UsageError(invalidClusterNameMessage(JSON.stringify(out.cluster)));
  if (out.live && out.file !== undefined) throw new UsageError('give either --live or FILE, not both');
  return out;
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
    const yaml = /^\s*(apiVersion|kind|items|metadata)\s*:/m.test(text);
    const hint = yaml
      ? ' (it looks like YAML: run kubectl with "-o json", e.g. kubectl get svc -A -o json)'
      : '';
    throw new UsageError(`${source} is not valid JSON${hint}: ${(err as Error).message}`);
  }
  return servicesOf(json, io);
}

/** The options given on the command line, over `configured` (the cluster's configuration with --live). */
function tagOptions(args: TagsArgs, configured?: Partial<ComputeIpTagsOptions>): ComputeIpTagsOptions {
  const filtered = args.include !== undefined || args.exclude.length > 0;
  const labelTags: LabelTagFilter | undefined = filtered
    ? { ...(args.include ? { include: args.include } : {}), exclude: args.exclude }
    : configured?.labelTags;
  return {
    cluster: args.cluster,
    selectors: args.selectors.length > 0 ? args.selectors : (configured?.selectors ?? []),
    maxTagsPerIp: args.maxTagsPerIp ?? configured?.maxTagsPerIp,
    labelTags,
    namespaceTags: args.namespaceTags || configured?.namespaceTags === true,
  };
}

/** The tag settings of cluster `name` in `io.env`'s CLUSTERS (or, when it is not there, MAX_TAGS_PER_IP only). */
function configuredTagOptions(name: string, io: CliIo): Partial<ComputeIpTagsOptions> {
  const settings = io.env;
  const clusters = parseClusters(settings.CLUSTERS, settings, []);
  const cluster = clusters.find((c) => c.name.toLowerCase() === name.toLowerCase());
  return cluster ? tagOptionsOf(cluster) : { maxTagsPerIp: tagBudgetSetting(settings, []) };
}

async function loadServices(
  args: TagsArgs,
  io: CliIo,
): Promise<{ services: KubeService[]; options: ComputeIpTagsOptions }> {
  if (!args.live) return { services: await readInput(args.file, io), options: tagOptions(args) };
  const { loadLiveServices } = await import('./liveServices.js');
  const withSettings = cliIoWithSettings(io);
  const services = await loadLiveServices(args.cluster, withSettings);
  return { services, options: tagOptions(args, configuredTagOptions(args.cluster, withSettings)) };
}

/** One line counting the Services that get no tags; with `verbose`, one more per Service saying why. */
function reportSkipped(services: readonly KubeService[], verbose: boolean, io: CliIo): void {
  const skipped = skippedServices(services);
  const hint = skipped.length > 0 && !verbose ? ' (--verbose names them)' : '';
  io.stderr(`note: ${skippedSummary(skipped, services.length)}${hint}\n`);
  if (verbose) for (const s of skipped) io.stderr(`note: skipped ${oneLine(s.ref)}: ${oneLine(s.reason)}\n`);
}

/**
 * `tags --cluster NAME [--selector NAME=SELECTOR]… [--include-label GLOB]… [--exclude-label GLOB]…
 * [--namespace-tags] [--max-tags N] [--live] [FILE]`: prints `{"<ip>": [tags]}` for a
 * ServiceList (FILE or stdin) or, with `--live`, for the configured cluster's Services (its tag
 * settings apply unless options replace them). Issues go to stderr and do not change the exit code;
 * bad arguments or input exit 2.
 */
export const tagsCommand: Command = async (args, io) => {
  try {
    const parsed = parseArgs(args);
    if (parsed.help) {
      io.stdout(HELP);
      return ExitCode.ok;
    }
    const { services, options } = await loadServices(parsed, io);
    const { tags, issues } = computeIpTags(services, options);
    for (const issue of issues) io.stderr(`${issue.severity}: ${oneLine(issue.message)}\n`);
    reportSkipped(services, parsed.verbose, io);
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
