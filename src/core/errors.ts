import { codeSpec, isCode, type Code } from './codes.js';

/**
 * The one error class of writ. Every failure that reaches a client is a WritError whose `code`
 * comes from the registry in codes.ts; anything else is reported as INTERNAL without its message,
 * so that no internal detail (or secret) leaks into an answer.
 */
export class WritError extends Error {
  readonly code: Code;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** Seconds a client should wait before retrying (RATE_LIMITED, UNAVAILABLE). */
  readonly retryAfter: number | undefined;

  constructor(code: Code, message: string, options: { details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WritError';
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  get httpStatus(): number {
    return codeSpec(this.code).http;
  }

  get exitCode(): number {
    return codeSpec(this.code).exit;
  }
}

/** Turns anything thrown into a WritError; unknown errors become INTERNAL with a generic message. */
export function toWritError(err: unknown): WritError {
  if (err instanceof WritError) return err;
  if (err && typeof err === 'object' && isCode((err as { code?: unknown }).code) && (err as { name?: unknown }).name === 'WritError') {
    const e = err as { code: Code; message?: string; details?: Record<string, unknown> };
    return new WritError(e.code, String(e.message ?? e.code), { details: e.details });
  }
  return new WritError('INTERNAL', 'internal error', { cause: err });
}
