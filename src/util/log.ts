/**
 * writ's own diagnostics (outside a request, or for errors an answer must not carry): one JSON line
 * on stderr. Callers pass what is safe to log; envelopes, payloads, keys and codes are never passed.
 */
export function logError(msg: string, err: unknown, fields: Record<string, unknown> = {}): void {
  const e = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { value: String(err) };
  process.stderr.write(JSON.stringify({ level: 'error', time: new Date().toISOString(), msg, ...fields, err: e }) + '\n');
}

/** One JSON line on stdout for an event worth an operator's eye (per NATS message, …); same rule: no secrets. */
export function logInfo(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ level: 'info', time: new Date().toISOString(), msg, ...fields }) + '\n');
}
