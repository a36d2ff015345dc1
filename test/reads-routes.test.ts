import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { actorOfKeyId, type Signer } from '../src/sdk/sign.js';
import { buildServer } from '../src/transports/http/server.js';
import type { DeclaredRoute } from '../src/transports/http/access.js';
import { startHarness, type Harness } from './support/harness.js';
import { OpenApiChecker } from './support/openapi-check.js';
import { testOutbox } from './support/outbox.js';
import { actorIn } from './support/tenants.js';

/**
 * Route by route, from the server's own list of routes (every route declares its access, or the
 * server refuses it): anonymous callers get 401 except on public routes; an identity of another
 * tenant gets 403 on every route that reads or acts on this one; the right identity gets neither.
 * A new route without a sample URL here fails this test, so nobody adds one unseen.
 */
describe('authorization of every HTTP route', () => {
  let h: Harness;
  let dir: string;
  let olga: Signer;
  let routes: DeclaredRoute[];
  const ids = { requestId: '', approval: '', event: '' };
  const sentEnvelopes: unknown[] = [];

  /** A request that reaches each route's handler, for the home tenant (`default`). */
  const samples: Record<string, () => string> = {
    'POST /v1/commands': () => '/v1/commands',
    'GET /v1/commands/:tenant/:requestId': () => `/v1/commands/default/${ids.requestId}`,
    'GET /v1/entities/:tenant/:type/:id': () => '/v1/entities/default/product/tea',
    'GET /v1/entities/:tenant/:type/:id/history': () => '/v1/entities/default/product/tea/history',
    'GET /v1/entities/:tenant/:type': () => '/v1/entities/default/product',
    'GET /v1/actions': () => '/v1/actions',
    'GET /v1/ledger/:tenant/:scroll/records': () => '/v1/ledger/default/commerce/records?envelopes=true',
    'GET /healthz': () => '/healthz',
    'GET /v1/approvals': () => '/v1/approvals?tenant=default',
    'GET /v1/approvals/:id': () => `/v1/approvals/${ids.approval}?tenant=default`,
    'GET /v1/logs': () => '/v1/logs',
    'GET /v1/logs/:tenant/:scroll/checkpoint': () => '/v1/logs/default/commerce/checkpoint',
    'POST /v1/logs/:tenant/:scroll/checkpoint': () => '/v1/logs/default/commerce/checkpoint',
    'GET /v1/logs/:tenant/:scroll/tile/*': () => '/v1/logs/default/commerce/tile/0/000.p/1',
    'GET /v1/logs/:tenant/:scroll/proof/inclusion': () => '/v1/logs/default/commerce/proof/inclusion?index=0',
    'GET /v1/logs/:tenant/:scroll/proof/consistency': () => '/v1/logs/default/commerce/proof/consistency?from=1',
    'GET /v1/logs/:tenant/:scroll/receipts/:index': () => '/v1/logs/default/commerce/receipts/0',
    'GET /v1/receipts/:tenant/:requestId': () => `/v1/receipts/default/${ids.requestId}`,
    'GET /v1/outbox/sinks': () => '/v1/outbox/sinks',
    'GET /v1/outbox/events': () => '/v1/outbox/events',
    'GET /v1/outbox/events/:id': () => `/v1/outbox/events/${ids.event}`,
    'GET /v1/outbox/dead-letters': () => '/v1/outbox/dead-letters',
    'GET /v1/outbox/sinks/:sink/deliveries': () => '/v1/outbox/sinks/file/deliveries',
    'POST /v1/outbox/retry': () => '/v1/outbox/retry',
    'POST /v1/outbox/dead-letters/redrive': () => '/v1/outbox/dead-letters/redrive',
    'GET /v1/tenants': () => '/v1/tenants',
    'GET /openapi.json': () => '/openapi.json',
    'GET /metrics': () => '/metrics',
    'GET /v1/policy/schema': () => '/v1/policy/schema',
    'GET /v1/policy': () => '/v1/policy',
    'POST /v1/policy/reload': () => '/v1/policy/reload',
    'POST /mcp': () => '/mcp',
    'DELETE /mcp': () => '/mcp',
    'GET /mcp': () => '/mcp',
    'GET /console': () => '/console',
    'GET /console/': () => '/console/',
    'GET /console/:file': () => '/console/console.js',
    'GET /v1/knowledge/:tenant/entry': () => '/v1/knowledge/default/entry?path=notes/tea.md',
    'GET /v1/knowledge/:tenant/log': () => '/v1/knowledge/default/log',
    'GET /v1/knowledge/:tenant/seq': () => '/v1/knowledge/default/seq',
    'GET /v1/knowledge/:tenant/search': () => '/v1/knowledge/default/search?q=tea',
    'GET /v1/knowledge/:tenant/inbox': () => '/v1/knowledge/default/inbox',
    'GET /v1/knowledge/:tenant/status': () => '/v1/knowledge/default/status',
    'GET /v1/knowledge/:tenant/proposals/:id/preview': () => '/v1/knowledge/default/proposals/none/preview',
  };
  /** The bearer JWT secret (the MCP endpoint takes bearer tokens only). */
  const jwtSecret = randomBytes(32);
  const MCP_INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'routes', version: '1' } } });

  const keyOf = (r: DeclaredRoute) => `${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`;

  /** Sends the route's sample as `signer` of `tenant` (anonymous when null); POST /v1/commands carries an envelope. */
  async function call(route: DeclaredRoute, signer: Signer | null, tenant: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    const url = samples[keyOf(route)]();
    if (route.access.kind === 'command') {
      const envelope = signer ? h.sign('UpsertProduct', { sku: `r-${Math.random()}`, name: 'R', price: { amount: 1, currency: 'EUR' } }, { tenant: 'default' }, signer) : { ...h.sign('UpsertProduct', { sku: 'anon', name: 'A', price: { amount: 1, currency: 'EUR' } }), signature: undefined };
      sentEnvelopes.push(envelope);
      const res = await h.post(envelope);
      return { status: res.status, headers: res.headers, body: res.raw };
    }
    if (route.access.kind === 'bearer') {
      // The same identity as a bearer JWT; POST carries an initialize, DELETE names no session.
      const token = signer ? await new SignJWT({ tenant }).setProtectedHeader({ alg: 'HS256' }).setSubject(actorOfKeyId(signer.keyId)!).setExpirationTime('1h').sign(jwtSecret) : undefined;
      const res = await h.app.inject({ method: route.method as 'POST', url, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, ...(route.method === 'POST' ? { payload: MCP_INIT } : {}) });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    }
    const headers = signer ? { authorization: h.readAuth(route.method, url, signer, tenant) } : {};
    const res = await h.app.inject({ method: route.method as 'GET', url, headers });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'writ-routes-'));
    writeFileSync(join(dir, 'jwt.secret'), jwtSecret, { mode: 0o600 });
    h = await startHarness({ ...testOutbox([{ name: 'file', kind: 'ndjson', path: join(dir, 'events.ndjson') }]), ledger: { checkpointIntervalMs: 50 }, auth: { require: 'either', jwt: { hs256SecretFile: join(dir, 'jwt.secret') } } } as never);
    olga = await actorIn(h, 'other', 'olga', ['admin']);
    const put = h.sign('UpsertProduct', { sku: 'tea', name: 'Tea', price: { amount: 1, currency: 'EUR' } });
    ids.requestId = put.requestId;
    assert.equal((await h.post(put)).status, 200);
    writeFileSync(join(h.home, 'policies', 'hold.cedar'), '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
    await h.restart();
    const mo = await h.actor('mo', ['merch']);
    const held = await h.post(h.sign('UpsertProduct', { sku: 'held', name: 'Held', price: { amount: 2, currency: 'EUR' } }, {}, mo));
    assert.equal(held.status, 202, held.raw);
    ids.approval = held.body.approval.id;
    ids.event = (await h.get('/v1/outbox/events')).body.items[0].id;
    await h.writ.integrator.checkpointNow('default', 'commerce');
    routes = h.app.routeAccess;
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has a sample request for every declared route (add one for a new route)', () => {
    assert.ok(routes.length >= Object.keys(samples).length, 'routes were collected');
    const missing = routes.map(keyOf).filter((k) => !(k in samples));
    assert.deepEqual(missing, [], 'routes without a sample request in this test');
    // The packs' routes (PackModule.routes) are among them: mounted through the same access gate.
    const packRoutes = h.writ.catalog.packs.flatMap((p) => (p.module.routes ?? []).map((r) => `${r.method} ${r.path}`));
    assert.ok(packRoutes.length > 0, 'the built-in packs serve routes');
    assert.deepEqual(packRoutes.filter((k) => !routes.map(keyOf).includes(k)), [], 'pack routes the server does not list');
  });

  it('refuses to register a route that does not declare who may call it', () => {
    const app = buildServer(h.writ);
    assert.throws(() => app.get('/v1/secrets', async () => ({})), /declares no access/);
    void app.close();
  });

  it('answers 401 to anonymous callers, except on the public routes', async () => {
    for (const route of routes) {
      const { status, body } = await call(route, null, 'default');
      const label = `${route.method} ${route.url}: ${status} ${body.slice(0, 200)}`;
      if (route.access.kind === 'public') assert.ok(status !== 401 && status !== 403, label);
      else assert.equal(status, 401, label);
    }
  });

  it("answers 403 to an identity of another tenant on every route that names or operates this one", async () => {
    for (const route of routes) {
      if (route.access.kind === 'command') continue; // the pipeline's key registry is per tenant: see test/authenticate.test.ts
      const { status, body } = await call(route, olga, 'other');
      const label = `${route.method} ${route.url}: ${status} ${body.slice(0, 200)}`;
      // An identified or bearer route serves any tenant's identity (what it then reads is its own tenant's).
      if (route.access.kind === 'public' || route.access.kind === 'identified' || route.access.kind === 'bearer') assert.ok(status !== 401 && status !== 403, label);
      else assert.equal(status, 403, label);
    }
  });

  it('answers every sample, to anyone, to another tenant and to the admin, as the OpenAPI document declares it (status, headers, media type, body schema)', async () => {
    const doc = (await h.get('/openapi.json')).body;
    const checker = new OpenApiChecker(doc);
    const problems: string[] = [];
    let checked = 0;
    const documented = routes.filter((r) => r.method !== 'HEAD');
    for (const route of documented) {
      for (const [signer, tenant] of [[null, 'default'], [olga, 'other'], [h.admin, 'default']] as const) {
        problems.push(...checker.check(route.method, openApiPath(route.url), await call(route, signer, tenant)));
        checked++;
      }
    }
    // A replayed command: the stored answer again, marked Idempotent-Replayed.
    const put = h.sign('UpsertProduct', { sku: 'replayed', name: 'R', price: { amount: 1, currency: 'EUR' } });
    await h.post(put);
    const replay = await h.post(put);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    problems.push(...checker.check('POST', '/v1/commands', { status: replay.status, headers: replay.headers, body: replay.raw }));
    const requestBody = checker.validator(doc.paths['/v1/commands'].post.requestBody.content['application/json'].schema);
    for (const envelope of [...sentEnvelopes, put].map((e) => JSON.parse(JSON.stringify(e)))) {
      if (!requestBody(envelope)) problems.push(`the envelope ${JSON.stringify(envelope).slice(0, 200)} does not validate: ${JSON.stringify(requestBody.errors).slice(0, 300)}`);
    }
    assert.ok(documented.length >= 20 && checked === documented.length * 3, 'answers were checked');
    assert.deepEqual(problems, []);
  });

  it('lets the home tenant admin through every route', async () => {
    for (const route of routes) {
      const { status, body } = await call(route, h.admin, 'default');
      assert.ok(status !== 401 && status !== 403, `${route.method} ${route.url}: ${status} ${body.slice(0, 200)}`);
    }
  });
});

/** `/v1/entities/:tenant/:type/:id` → `/v1/entities/{tenant}/{type}/{id}`; a wildcard is `{path}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}');
}

describe('the OpenAPI document', () => {
  it('names who may call every route, and the credentials of every route that needs one', async () => {
    const h = await startHarness();
    try {
      const doc = (await h.getAs('/openapi.json', null)).body;
      assert.ok(doc.components.securitySchemes.writSig);
      for (const route of h.app.routeAccess.filter((r) => r.method !== 'HEAD')) {
        const op = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
        assert.ok(op, `${route.method} ${route.url} is not in the OpenAPI document`);
        assert.equal(typeof op['x-writ-access'], 'string', `${route.method} ${route.url}`);
        const needs = route.access.kind !== 'public' && route.access.kind !== 'command';
        assert.equal(Array.isArray(op.security), needs, `${route.method} ${route.url} security`);
      }
    } finally {
      await h.close();
    }
  });
});
