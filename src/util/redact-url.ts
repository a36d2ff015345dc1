/**
 * A URL (or a comma-separated list of them, as NATS takes) with any user and password replaced by
 * `***`, for logs, errors and status: a credential written into a configured URL is a secret.
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, '//***@');
}
