import type { SoakHome } from './home.js';
import { fill, httpBytes, HUGE_VALUES, pathValues, QUERY_VALUES, type Route, type SoakRequest, type Target } from './requests.js';
import type { Build } from './signed.js';

/** Paths that try to leave their route: dot segments, encoded separators, NULs, overlong UTF-8. */
function traversalPaths(tenant: string): string[] {
  return [
    '/v1/entities/../../../etc/passwd',
    `/v1/entities/${tenant}/product/..%2F..%2F..%2Fetc%2Fpasswd`,
    `/v1/entities/${tenant}/product/%2e%2e%2f%2e%2e%2fdata%2fwrit.db`,
    `/v1/entities/${tenant}/product/%252e%252e%252f`,
    `/v1/entities/${tenant}/product/%c0%ae%c0%ae%c0%af`,
    `/v1/entities/${tenant}/product/p-1%00.json`,
    `/v1/entities/${tenant}/product/%`,
    `/v1/entities/${tenant}/product/%zz`,
    `/v1/entities/${tenant}/product/%E0%A4%A`,
    `/v1/entities/%2e%2e/product/p-1`,
    `/v1/ledger/${tenant}/..%2Fwrit/records`,
    `/v1/logs/${tenant}/commerce/tile/../../../../keys/log.key`,
    `/v1/logs/${tenant}/commerce/tile/0/%2e%2e/%2e%2e/keys/admin.key`,
    `/v1/logs/${tenant}/commerce/tile/entries/x999/999/999/999/999.p/255`,
    '//v1//entities//' + tenant,
    '/v1/./actions',
    '/V1/ACTIONS',
    '/v1/actions;jsessionid=1',
    `/v1/entities/${tenant}/product/${'x'.repeat(8000)}`,
    `/v1/entities/${tenant}/product?limit=1&limit=2&__proto__[admin]=1&constructor[prototype][admin]=1`,
    '/v1/approvals?tenant=../default',
    `/v1/receipts/${tenant}/%00`,
    '/keys/admin.key',
    '/data/writ.db',
    '/config.json',
    '/openapi.json/../keys/log.key',
    '/\\..\\..\\keys\\admin.key',
    '*',
  ];
}

/**
 * Anonymous requests on every route: reads with sensible values in the own and the other tenant,
 * every stored command body (?envelopes=true), numbers far beyond any page or log, paths that
 * try to escape, and the operator POSTs (outbox retry and redrive, checkpoint) without a credential.
 */
export function readKinds(home: SoakHome, target: Target, routes: readonly Route[], pick: (n: number) => number): Record<string, Build> {
  const gets = routes.filter((r) => r.method === 'GET');
  const posts = routes.filter((r) => r.method === 'POST' && r.path !== '/v1/commands');
  const get = (kind: string, path: string): SoakRequest => ({ kind, mode: 'keepalive', bytes: httpBytes(target, 'GET', path) });
  const query = (r: Route, values: (name: string) => readonly string[], always: Record<string, string> = {}) => {
    const parts = r.query.map((name) => {
      const list = values(name);
      return `${name}=${list[pick(list.length)]}`;
    });
    for (const [k, v] of Object.entries(always)) parts.push(`${k}=${v}`);
    return parts.length ? '?' + parts.join('&') : '';
  };
  const reads = (kind: string, tenant: string) => (n: number) => {
    const values = pathValues(home, tenant);
    return Array.from({ length: n }, (_, i) => {
      const r = gets[i % gets.length];
      // Routes without a tenant in the path take it as ?tenant= (approvals): name the same tenant there.
      const always: Record<string, string> = !r.path.includes('{tenant}') && r.query.includes('tenant') ? { tenant } : {};
      const q = query({ ...r, query: r.query.filter((x) => !(x in always)) }, (name) => QUERY_VALUES[name] ?? ['1'], always);
      return get(kind, fill(r.path, values, pick) + q);
    });
  };
  return {
    read: reads('read', home.tenant),
    'read-other-tenant': reads('read-other-tenant', home.otherTenant),
    'read-envelopes': (n) =>
      Array.from({ length: n }, (_, i) => {
        const tenant = i % 2 ? home.otherTenant : home.tenant;
        const scroll = ['writ', 'access', 'commerce', 'content'][(i >> 1) % 4];
        return get('read-envelopes', `/v1/ledger/${tenant}/${scroll}/records?envelopes=true&limit=1000`);
      }),
    'read-huge-numbers': (n) => {
      const values = pathValues(home, home.tenant);
      const withQuery = gets.filter((r) => r.query.length > 0);
      return Array.from({ length: n }, (_, i) => {
        const r = withQuery[i % withQuery.length];
        const q = query(r, () => HUGE_VALUES);
        // Huge path parameters too: a log index, a requestId of the longest allowed shape.
        const path = fill(r.path, { ...values, index: HUGE_VALUES, requestId: ['x'.repeat(128), 'x'.repeat(129)] }, pick);
        return get('read-huge-numbers', path + q);
      });
    },
    traversal: (n) => {
      const paths = traversalPaths(home.tenant);
      return Array.from({ length: n }, (_, i) => get('traversal', paths[i % paths.length]));
    },
    'operator-post': (n) => {
      const values = pathValues(home, home.tenant);
      const extra = ['', '?sink=audit', '?sink=audit&id=0195a3c0-0000-7000-8000-000000000000', '?sink=nope'];
      return Array.from({ length: n }, (_, i) => {
        const r = posts[i % posts.length];
        const tenant = i % 2 ? home.otherTenant : home.tenant;
        const headers: Record<string, string> = i % 3 === 2 ? { Authorization: 'Bearer junk' } : {};
        return { kind: 'operator-post', mode: 'keepalive', bytes: httpBytes(target, 'POST', fill(r.path, { ...values, tenant: [tenant] }, pick) + extra[i % extra.length], '', headers) };
      });
    },
  };
}
