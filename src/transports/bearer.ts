/**
 * Reads an `Authorization` value (an HTTP header or a NATS message header): the token of
 * `Bearer <token>`; undefined when there is no credential; '' when the value is there but is not a
 * bearer token, which the transport answers UNAUTHENTICATED rather than ignoring.
 */
export function parseBearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m ? m[1] : header.trim() === '' ? undefined : '';
}
