/** A Kubernetes error answer: HTTP code, `Status` reason and message, optional details and metadata. */
export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly metadata: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
