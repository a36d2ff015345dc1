import { PATTERNS } from '../../core/envelope.js';

/**
 * The subjects of the NATS command intake (docs/nats-intake.md). Commands are published on
 * `<subjectPrefix>.<tenant>`; an answer goes to the `Writ-Reply-To` header's subject, else to
 * `<resultPrefix>.<tenant>.<requestId>`. A tenant or requestId with dots spans several tokens,
 * which is why the stream listens on `<subjectPrefix>.>` and answers are read with `….>`.
 */

/** Message headers of the intake (NATS headers are case-sensitive on the wire; these are the names writ uses). */
export const HEADERS = {
  /** On a command: where to send its answer (JetStream keeps no reply subject of the publisher). */
  replyTo: 'Writ-Reply-To',
  /** On a command: `Bearer <JWT>`, as over HTTP. */
  authorization: 'Authorization',
  /** On an answer: the HTTP-equivalent status (200, 202, 4xx, 5xx). */
  status: 'Writ-Status',
  /** On an answer: `true` when it is the stored answer of an earlier delivery (as over HTTP). */
  replayed: 'Idempotent-Replayed',
  /** On an answer: seconds, for RATE_LIMITED and UNAVAILABLE (as over HTTP). */
  retryAfter: 'Retry-After',
} as const;

/** A subject made of non-empty tokens without wildcards or whitespace (what a publish accepts). */
const SUBJECT = /^[^.\s*>]+(\.[^.\s*>]+)*$/;

export function isSubject(s: string): boolean {
  return s.length <= 1024 && SUBJECT.test(s);
}

/** The subject a tenant's commands are published on. */
export function commandSubject(prefix: string, tenant: string): string {
  return `${prefix}.${tenant}`;
}

/** The tenant named by a command's subject, or null when the subject names no valid tenant. */
export function tenantOfSubject(prefix: string, subject: string): string | null {
  if (!subject.startsWith(`${prefix}.`)) return null;
  const tenant = subject.slice(prefix.length + 1);
  return PATTERNS.tenant.test(tenant) && isSubject(tenant) ? tenant : null;
}

/** Where the answer of a command without `Writ-Reply-To` goes; null when it cannot be named. */
export function resultSubject(prefix: string, tenant: string | null, requestId: string | null): string | null {
  if (tenant === null || requestId === null) return null;
  const s = `${prefix}.${tenant}.${requestId}`;
  return isSubject(s) ? s : null;
}
