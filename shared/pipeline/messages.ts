import { z } from 'zod';
import type { TagDelta } from '../diff/TagDelta.js';
import { InputError } from '../errors.js';
import { encodeMessage } from '../queues/MessageQueues.js';
import { normalizeIp } from '../tags/normalizeIp.js';
import { tagProblem } from '../tags/tagProblem.js';
import { ownerClusterOfTag } from './tagOwnership.js';

/** Encoded delta messages stay at or below this size (the queue limit is 64 KiB). */
export const MAX_DELTA_MESSAGE_BYTES = 48 * 1024;

const recomputeSchema = z.object({
  v: z.literal(1),
  cluster: z.string().min(1).max(63),
  reason: z.string().max(200),
  requestedAt: z.iso.datetime(),
  deleted: z.boolean().optional(),
  eventId: z.string().max(200).optional(),
});

/** Asks for one cluster to be recomputed; `deleted` = the cluster resource was deleted. */
export type RecomputeMessage = z.infer<typeof recomputeSchema>;

const deltaSchema = z
  .object({
    v: z.literal(1),
    cluster: z.string().min(1).max(63),
    target: z.string().min(1).max(64),
    generation: z.number().int().nonnegative(),
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

/** Validates a decoded `tag-deltas` message. */
export function parseDeltaMessage(body: unknown): DeltaMessage {
  return parseWith(deltaSchema, 'tag-deltas', body);
}

/**
 * Splits the deltas of one cluster and target into messages whose base64 encoding stays within
 * {@link MAX_DELTA_MESSAGE_BYTES}. Deltas keep their (IP-sorted) order.
 */
export function chunkDeltaMessages(
  header: Omit<DeltaMessage, 'deltas'>,
  deltas: readonly TagDelta[],
  maxBytes = MAX_DELTA_MESSAGE_BYTES,
): DeltaMessage[] {
  const overhead = JSON.stringify({ ...header, deltas: [] }).length;
  const maxRaw = Math.floor((maxBytes * 3) / 4) - overhead - 16;
  const out: DeltaMessage[] = [];
  let current: TagDelta[] = [];
  let size = 0;
  for (const d of deltas) {
    const s = Buffer.byteLength(JSON.stringify(d)) + 1;
    if (current.length > 0 && size + s > maxRaw) {
      out.push({ ...header, deltas: current });
      current = [];
      size = 0;
    }
    current.push(d);
    size += s;
  }
  if (current.length > 0) out.push({ ...header, deltas: current });
  for (const m of out) {
    if (encodeMessage(m).length > maxBytes) {
      throw new InputError(`delta for ${m.deltas[0]?.ip ?? '?'} does not fit in one queue message`);
    }
  }
  return out;
}
