import type { SoakHome } from './home.js';

/**
 * How a request travels: on the worker's keep-alive connection, on a connection of its own that is
 * closed after the answer (bodies over the limit, after which the server may drop the connection),
 * or as raw bytes on a plain socket that is half-closed after writing (malformed framing).
 */
export type Mode = 'keepalive' | 'fresh' | 'raw';

export interface SoakRequest {
  readonly kind: string;
  readonly mode: Mode;
  readonly bytes: Buffer;
}

export interface Target {
  readonly host: string;
}

/** The bytes of one HTTP/1.1 request; the body's length is what it is (Content-Length tells the truth). */
export function httpBytes(target: Target, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${target.host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (b) head += `Content-Type: ${headers['Content-Type'] ?? 'application/json'}\r\nContent-Length: ${b.length}\r\n`;
  head += '\r\n';
  return b ? Buffer.concat([Buffer.from(head, 'latin1'), b]) : Buffer.from(head, 'latin1');
}

/** A POST /v1/commands request. */
export function commandBytes(target: Target, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  return httpBytes(target, 'POST', '/v1/commands', body, headers);
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** OpenAPI path template: `/v1/entities/{tenant}/{type}/{id}`. */
  readonly path: string;
  readonly query: readonly string[];
}

/**
 * The log routes, in case the OpenAPI document stops listing one of them: the soak must read them
 * all the same (a route missing from the document is still served).
 */
const LOG_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v1/logs', query: [] },
  { method: 'GET', path: '/v1/logs/{tenant}/{scroll}/checkpoint', query: [] },
  { method: 'POST', path: '/v1/logs/{tenant}/{scroll}/checkpoint', query: [] },
  { method: 'GET', path: '/v1/logs/{tenant}/{scroll}/tile/{path}', query: [] },
  { method: 'GET', path: '/v1/logs/{tenant}/{scroll}/proof/inclusion', query: ['index', 'size'] },
  { method: 'GET', path: '/v1/logs/{tenant}/{scroll}/proof/consistency', query: ['from', 'to'] },
  { method: 'GET', path: '/v1/logs/{tenant}/{scroll}/receipts/{index}', query: [] },
  { method: 'GET', path: '/v1/receipts/{tenant}/{requestId}', query: ['actor'] },
];

/** Every route of the server's OpenAPI document, plus the log routes. */
export function routesOf(openapi: { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> }): Route[] {
  const routes = new Map<string, Route>();
  for (const [path, ops] of Object.entries(openapi.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (method !== 'get' && method !== 'post') continue;
      // ?wait=true holds a request up to ledger.receiptWaitMs by design; the soak does not wait.
      const query = (op.parameters ?? []).filter((p) => p.in === 'query' && p.name !== 'wait').map((p) => p.name);
      routes.set(`${method} ${path}`, { method: method.toUpperCase() as Route['method'], path, query });
    }
  }
  for (const r of LOG_ROUTES) if (!routes.has(`${r.method.toLowerCase()} ${r.path}`)) routes.set(`${r.method.toLowerCase()} ${r.path}`, r);
  return [...routes.values()];
}

/** Values a path parameter takes, by name, for reads of one tenant. */
export function pathValues(home: SoakHome, tenant: string): Record<string, readonly string[]> {
  const own = tenant === home.tenant;
  return {
    tenant: [tenant],
    type: ['product', 'key', 'actor', 'approval', 'flag', 'redaction'],
    id: [...(own ? home.ids.products : home.ids.otherProducts), 'admin%231', 'nobody%231', home.approval.id, '0195a3c0-0000-7000-8000-000000000000'],
    scroll: ['writ', 'access', 'commerce', 'content'],
    requestId: [...home.seeded.map((s) => s.envelope.requestId as string), 'init-register-admin-key', 'soak-register-rival-admin'],
    index: ['0', '1', '3', '7'],
    path: ['0/000', '0/000.p/4', 'entries/000', 'entries/000.p/4', '1/000'],
    sink: ['audit'],
  };
}

/** Values of query parameters, by name: the sensible ones a reader would send. */
export const QUERY_VALUES: Record<string, readonly string[]> = {
  at: ['1', '5'],
  limit: ['10', '1000'],
  after: ['p-1', '0'],
  from: ['0', '1'],
  to: ['3'],
  index: ['0', '2'],
  size: ['3'],
  status: ['pending', 'executed'],
  actor: ['admin', 'nobody'],
  tenant: ['default', 'rival'],
  sink: ['audit'],
  id: ['0195a3c0-0000-7000-8000-000000000000'],
  envelopes: ['true'],
};

/** Values no server should take at face value: huge, negative, not numbers, not decimal. */
export const HUGE_VALUES: readonly string[] = [
  '999999999999999',
  '9007199254740993',
  '18446744073709551616',
  '1' + '0'.repeat(400),
  '-1',
  '1e308',
  '0x7fffffff',
  '%EF%BC%91', // a full-width digit one
  'NaN',
  '',
  '00000000000000000001',
];

/** Fills a route's template with `pick` choosing among each parameter's values. */
export function fill(path: string, values: Record<string, readonly string[]>, pick: (n: number) => number): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const list = values[name] ?? ['x'];
    return list[pick(list.length)];
  });
}
