/**
 * NATS subject tokens may not contain `.` (the separator), `*`, `>` or whitespace, and `$` opens
 * system subjects. Tenants may contain dots and actions do (`writ.Approve`), so each part becomes one
 * token: A–Z, a–z, 0–9 and `-` stay; every other UTF-8 byte, `_` included, becomes `_` and two
 * uppercase hex digits. `writ.Approve` → `writ_2EApprove`, `a_b` → `a_5Fb`. Escaping `_` itself keeps
 * the mapping one-to-one, so a consumer can decode a token and two names never share a subject.
 */
export function subjectToken(part: string): string {
  let out = '';
  for (const byte of Buffer.from(part, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '' ? '_' : out;
}

/** The inverse of subjectToken (for consumers and tests). */
export function decodeSubjectToken(token: string): string {
  if (token === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '_') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `<prefix>.<tenant>.<scroll>.<action>`, each part one token. */
export function eventSubject(prefix: string, event: { tenant: string; scroll: string; action: string }): string {
  return `${prefix}.${subjectToken(event.tenant)}.${subjectToken(event.scroll)}.${subjectToken(event.action)}`;
}
