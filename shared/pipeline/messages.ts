import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { TagDelta } from '../diff/TagDelta.js';
import { InputError } from '../errors.js';
import { parseTargetId } from '../panorama/targetId.js';
import { encodeMessage } from '../queues/PipelineQueues.js';
import { normalizeIp } from '../tags/normalizeIp.js';
import { ownerClusterOfTag } from '../tags/tagGrammar.js';
import { tagProblem } from '../tags/tagProblem.js';

/** Encoded delta messages stay at or below this size (the queue limit is 64 KiB). */
export const MAX_DELTA_MESSAGE_BYTES = 48 * 1024;

const recomputeSchema = z.object({
  v: z.literal(1),
  cluster: z.string().min(1).max(63),
  reason: z.string().max(200),
  requestedAt: z.iso.datetime(),
  deleted: z.boolean().optional(),
  eventId: z.string().max(200).optional(),
  /** `eventTime` of the Event Grid event behind the request (orders a delete against writes). */
  eventTime: z.iso.datetime({ offset: true }).optional(),
});

/** Asks for one cluster to be recomputed; `deleted` = the cluster resource was deleted. */
export type RecomputeMessage = z.infer<typeof recomputeSchema>;

const deltaSchema = z
  .object({
    v: z.literal(1),
    cluster: z.string().min(1).max(63),
    /** `panorama`, a firewall serial, or `<serial>:<vsys>` (`shared/panorama/targetId.ts`). */
    target: z
      .string()
      .min(1)
      .max(64)
      .refine((t) => parseTargetId(t) !== undefined, {
        message: 'expected "panorama", a firewall serial (digits) or "<serial>:vsys<N>"',
      }),
    generation: z.number().int().nonnegative(),
    /** The firewall's hostname and device group when the recompute resolved them (for log lines only). */
    hostname: z.string().max(255).optional(),
    deviceGroup: z.string().max(63).optional(),
    /** How often the message was put back because its generation was not committed yet. */
    deferrals: z.number().int().nonnegative().optional(),
    deltas: z
      .array(
        z.object({
          ip: z.string().min(1).max(64),
          register: z.array(z.string().min(1).max(127)),
          unregister: z.array(z.string().min(1).max(127)),
        }),
      )
      .min(1),
  })
  .superRefine((m, ctx) => {
    // Hostile or corrupted messages must not reach Panorama (invariant 8) nor unregister tags the
    // message's cluster does not own (invariant 5): the recompute only ever writes canonical IPs and
    // valid tags of its own cluster.
    const cluster = m.cluster.toLowerCase();
    m.deltas.forEach((d, i) => {
      const n = normalizeIp(d.ip);
      if (!n.ok || n.ip !== d.ip)
        ctx.addIssue({
          code: 'custom',
          path: ['deltas', i, 'ip'],
          message: `${JSON.stringify(d.ip)} is not a canonical IP address`,
        });
      for (const section of ['register', 'unregister'] as const) {
        d[section].forEach((tag, j) => {
          const problem = tagProblem(tag);
          const owner = ownerClusterOfTag(tag);
          if (problem !== undefined || owner?.toLowerCase() !== cluster)
            ctx.addIssue({
              code: 'custom',
              path: ['deltas', i, section, j],
              message: `tag ${JSON.stringify(tag)} ${problem ?? `is not a tag of cluster ${m.cluster}`}`,
            });
        });
      }
    });
  });

/**
 * The (ip, tag) pairs that changed for one cluster on one target, at a generation. The consumer
 * re-reads the state and sends only what still holds (level-triggered).
 */
export type DeltaMessage = z.infer<typeof deltaSchema>;

function parseWith<T>(schema: z.ZodType<T>, what: string, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first?.path.length ? ` at ${first.path.join('.')}` : '';
  throw new InputError(`malformed ${what} message${where}: ${first?.message ?? 'invalid'}`);
}

/** Validates a decoded `cluster-recompute` message. */
export function parseRecomputeMessage(body: unknown): RecomputeMessage {
  return parseWith(recomputeSchema, 'cluster-recompute', body);
}

/** Largest decompressed `gz` payload accepted (guards against compression bombs). */
const MAX_INFLATED_BYTES = 8 * 1024 * 1024;

/**
 * The wire form of a delta message: the deltas either inline (`deltas`) or, as the pipeline sends
 * them, gzip-compressed JSON in base64 (`gz`) — tags repeat their cluster and label prefixes, so about
 * 1,000 IPs fit in one 48 KiB message and an initial sync needs one Panorama call per 1,000 IPs.
 */
export type DeltaWireMessage = Omit<DeltaMessage, 'deltas'> & { deltas?: TagDelta[]; gz?: string };

/** Validates a decoded `tag-deltas` message (inline or compressed deltas). */
export function parseDeltaMessage(body: unknown): DeltaMessage {
  if (typeof body === 'object' && body !== null && typeof (body as { gz?: unknown }).gz === 'string') {
    const { gz, ...rest } = body as { gz: string };
    let deltas: unknown;
    try {
      const inflated = gunzipSync(Buffer.from(gz, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
      deltas = JSON.parse(inflated.toString('utf8'));
    } catch (err) {
      throw new InputError(
        `malformed tag-deltas message at gz: not gzip of JSON (${(err as Error).message})`,
      );
    }
    return parseWith(deltaSchema, 'tag-deltas', { ...rest, deltas });
  }
  return parseWith(deltaSchema, 'tag-deltas', body);
}

/** The wire form of a delta message, with its deltas compressed. */
export function toWireDeltaMessage(message: DeltaMessage): DeltaWireMessage {
  const { deltas, ...header } = message;
  return { ...header, gz: gzipSync(Buffer.from(JSON.stringify(deltas)), { level: 6 }).toString('base64') };
}

/** IPs per delta message: one Panorama call's worth at the default chunk size. */
export const MAX_IPS_PER_DELTA_MESSAGE = 1000;

/**
 * Splits the deltas of one cluster and target into messages of at most
 * {@link MAX_IPS_PER_DELTA_MESSAGE} IPs whose queue encoding ({@link toWireDeltaMessage}, base64)
 * stays within `maxBytes`. Deltas keep their (IP-sorted) order. The delta of one IP that is too big
 * on its own (hundreds of long label tags) is split across messages by its tags: the consumer
 * handles each pair on its own, so nothing of the cluster waits behind it.
 */
export function chunkDeltaMessages(
  header: Omit<DeltaMessage, 'deltas'>,
  deltas: readonly TagDelta[],
  maxBytes = MAX_DELTA_MESSAGE_BYTES,
  maxIps = MAX_IPS_PER_DELTA_MESSAGE,
): DeltaMessage[] {
  const out: DeltaMessage[] = [];
  const fits = (part: TagDelta[]) =>
    encodeMessage(toWireDeltaMessage({ ...header, deltas: part })).length <= maxBytes;
  const place = (part: TagDelta[]): void => {
    if (fits(part)) {
      out.push({ ...header, deltas: part });
      return;
    }
    const [only] = part;
    if (part.length === 1 && only) {
      for (const half of splitDelta(only)) place([half]);
      return;
    }
    const half = Math.ceil(part.length / 2);
    place(part.slice(0, half));
    place(part.slice(half));
  };
  for (let i = 0; i < deltas.length; i += maxIps) place(deltas.slice(i, i + maxIps));
  return out;
}

/** Splits one IP's delta in two by its tags (a delta of one tag always fits: tags are ≤ 127 characters). */
function splitDelta(delta: TagDelta): [TagDelta, TagDelta] {
  const pairs = delta.register.length + delta.unregister.length;
  if (pairs < 2) throw new InputError(`delta for ${delta.ip} does not fit in one queue message`);
  const cut = Math.ceil(pairs / 2);
  const reg = Math.min(cut, delta.register.length);
  return [
    {
      ip: delta.ip,
      register: delta.register.slice(0, reg),
      unregister: delta.unregister.slice(0, cut - reg),
    },
    { ip: delta.ip, register: delta.register.slice(reg), unregister: delta.unregister.slice(cut - reg) },
  ];
}
