import { createHmac, randomBytes } from 'node:crypto';
import { uuidv7 } from '../../src/core/uuid7.js';
import type { SoakHome } from './home.js';
import { commandBytes, type SoakRequest, type Target } from './requests.js';
import type { Build } from './signed.js';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function hs256(claims: Record<string, unknown>, secret: Buffer): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** An envelope with no signature, identity fields filled or left for a token to fill. */
function unsignedEnvelope(home: SoakHome, i: number, identity: boolean): Record<string, unknown> {
  return {
    v: 1,
    action: i % 2 ? 'AssignRole' : 'UpsertProduct',
    ...(identity ? { requestId: uuidv7(), actor: 'admin', tenant: home.tenant, nonce: uuidv7() } : {}),
    timestamp: new Date().toISOString(),
    payload: i % 2 ? { actor: 'nobody', role: 'admin' } : { sku: `junk-${i}`, name: 'x', price: { amount: 1, currency: 'EUR' } },
  };
}

/** Bodies that must not parse: truncated, not objects, not UTF-8, numbers JSON cannot hold, comments. */
const MALFORMED: readonly (string | Buffer)[] = [
  '',
  '{',
  '{"v":1,"action":"UpsertProduct"',
  '[]',
  'null',
  '"envelope"',
  '{"v":1,}',
  '{"v":1 /* comment */}',
  "{'v':1}",
  '{"v":NaN}',
  '{"v":1e999}',
  '{"v":9007199254740993}',
  '{"v":1,"action":"\\ud800"}',
  '{"__proto__":{"admin":true},"v":1}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '\u0000{"v":1}',
  Buffer.from([0x7b, 0x22, 0x76, 0x22, 0x3a, 0xc0, 0xaf, 0x7d]),
  Buffer.from([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]),
  randomBytes(512),
  '{"v":1}{"v":1}',
  '{"v":1,"action":"UpsertProduct","payload":' + '1'.repeat(5000) + '}',
];

/** Malformed HTTP/1.1 on a plain socket: bad request lines, contradictory framing, smuggling attempts. */
const RAW: readonly string[] = [
  'GARBAGE\r\n\r\n',
  'GET / HTTP/9.9\r\n\r\n',
  'GET /healthz\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n',
  `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  'POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  'GET /healthz HTTP/1.1\nHost: x\n\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n',
  `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-Pad: 1\r\n'.repeat(3000)}\r\n`,
  'GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n',
  'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}',
];

/**
 * Requests refused before anyone is authenticated: junk bodies, envelopes without a credential or
 * with a bad bearer token, nesting and sizes beyond the limits, and broken HTTP framing.
 */
export function junkKinds(home: SoakHome, target: Target): Record<string, Build> {
  const range = (n: number, f: (i: number) => SoakRequest) => Array.from({ length: n }, (_, i) => f(i));
  const keep = (kind: string, body: string | Buffer, headers?: Record<string, string>): SoakRequest => ({ kind, mode: 'keepalive', bytes: commandBytes(target, body, headers) });
  const now = () => Math.floor(Date.now() / 1000);
  const tokens = () => [
    'junk',
    'a.b.c',
    `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'admin', tenant: home.tenant, role: 'admin' })}.`,
    `${b64url({ alg: 'none' })}.${b64url({ sub: 'admin', tenant: home.tenant })}`,
    hs256({ sub: 'admin', tenant: home.tenant, role: 'admin', exp: now() + 600 }, randomBytes(32)),
    // The deployment's own secret, but expired.
    hs256({ sub: 'admin', tenant: home.tenant, exp: now() - 600 }, home.jwtSecret),
    `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: 'admin' })}.${'A'.repeat(43)}`,
    'x'.repeat(8000),
  ];
  return {
    unsigned: (n) => range(n, (i) => keep('unsigned', JSON.stringify(unsignedEnvelope(home, i, true)))),
    bearer: (n) => {
      const t = tokens();
      return range(n, (i) => {
        const headers = i % 9 === 8 ? { Authorization: 'Basic YWRtaW46YWRtaW4=' } : { Authorization: `Bearer ${t[i % t.length]}` };
        return keep('bearer', JSON.stringify(unsignedEnvelope(home, i, i % 2 === 0)), headers);
      });
    },
    'malformed-json': (n) => range(n, (i) => keep('malformed-json', MALFORMED[i % MALFORMED.length])),
    'deep-nesting': (n) =>
      range(Math.min(n, 4), (i) => {
        const depth = 10_000 + i;
        const nest = i % 2 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        return keep('deep-nesting', `{"v":1,"action":"UpsertProduct","requestId":"deep-nesting-${i}","actor":"admin","tenant":"${home.tenant}","timestamp":"${new Date().toISOString()}","nonce":"deep-nesting-${i}","payload":{"x":${nest}}}`);
      }),
    oversized: (n) =>
      range(Math.min(n, 3), (i) => {
        const bytes =
          i === 2
            ? // Announces 100 MB, sends a few bytes: the limit must apply before the body is read.
              Buffer.from(`POST /v1/commands HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"v":1}`, 'latin1')
            : commandBytes(target, '{"v":1,"pad":"' + 'p'.repeat(300_000 * (i + 1)) + '"}');
        return { kind: 'oversized', mode: 'fresh', bytes };
      }),
    'raw-framing': (n) => range(Math.min(n, RAW.length), (i) => ({ kind: 'raw-framing', mode: 'raw', bytes: Buffer.from(RAW[i], 'latin1') })),
  };
}
