/**
 * Best-effort reading of identity fields from raw, unparsed envelope bytes: for hints and for
 * answers to bodies that never parsed. Nothing read here is trusted; the strict parser decides.
 */
const FIELDS = {
  requestId: /"requestId"\s*:\s*"([A-Za-z0-9._:-]{8,128})"/,
  tenant: /"tenant"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._-]{0,63})"/,
  actor: /"actor"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._:@-]{0,127})"/,
} as const;

/** Only the start of a body is read: identity fields come first in any ordinary envelope. */
const PREFIX = 4096;

function text(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, PREFIX)).toString('utf8');
}

export function requestIdHint(body: Uint8Array): string | null {
  return FIELDS.requestId.exec(text(body))?.[1] ?? null;
}

export function identityHint(body: Uint8Array): { tenant: string; actor: string; requestId: string } | undefined {
  const t = text(body);
  const requestId = FIELDS.requestId.exec(t)?.[1];
  const tenant = FIELDS.tenant.exec(t)?.[1];
  const actor = FIELDS.actor.exec(t)?.[1];
  return requestId && tenant && actor ? { tenant, actor, requestId } : undefined;
}
