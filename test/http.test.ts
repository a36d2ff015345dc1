import { strict as assert } from 'node:assert';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { WritClient } from '../src/sdk/client.js';
import { startHarness, type Harness } from './support/harness.js';
import { refLeafHash } from './support/reference.js';

interface Got {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** The answer shape of DESIGN §3 for an error that has no command behind it. */
function assertErrorShape(body: any, code: string): void {
  assert.equal(body.status, 'ERROR');
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.ok('requestId' in body);
  assert.ok('commandHash' in body);
}

const TRANSPORTS = ['a real loopback socket', 'Fastify inject()'] as const;

for (const transport of TRANSPORTS) describeEachBackend(`the HTTP API over ${transport}`, (backend) => {
  const socket = transport === TRANSPORTS[0];
  let h: Harness;
  let base: string;
  let client: WritClient;
  const statuses: Array<{ what: string; status: number }> = [];

  async function send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }> {
    if (socket) {
      const res = await fetch(new URL(path, base), { method, body, headers });
      return { status: res.status, headers: res.headers, text: await res.text() };
    }
    const res = await h.app.inject({ method: method as 'GET', url: path, payload: body, headers });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : String(v));
    return { status: res.statusCode, headers: out, text: res.body };
  }

  async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Got> {
    const res = await send(method, path, body, headers);
    const text = res.text;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    statuses.push({ what: `${method} ${path}`, status: res.status });
    return { status: res.status, headers: res.headers, body: parsed, text };
  }
  /** GET as the home's admin: a read token for the target the server will see (fetch() normalises it). */
  const get = (path: string) => {
    const u = new URL(path, 'http://target.invalid');
    return call('GET', path, undefined, { authorization: h.readAuth('GET', socket ? u.pathname + u.search : path) });
  };

  /** GET with the path sent exactly as given (fetch() would normalise it). */
  function rawGet(path: string): Promise<{ code: number; text: string }> {
    const headers = { authorization: h.readAuth('GET', path) };
    if (!socket) return h.app.inject({ method: 'GET', url: path, headers }).then((r) => ({ code: r.statusCode, text: r.body }));
    return new Promise((resolve, reject) => {
      const url = new URL(base);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'GET', path, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const post = (envelope: unknown) => call('POST', '/v1/commands', typeof envelope === 'string' ? envelope : JSON.stringify(envelope), { 'content-type': 'application/json' });

  before(async () => {
    h = await startHarness({}, { backend });
    base = socket ? await h.listen() : 'http://inject.invalid';
    client = new WritClient(base, h.reader);
    for (const sku of ['a-1', 'a-2', 'a-3', 'a-4', 'a-5']) {
      const r = await post(h.sign('UpsertProduct', { sku, name: sku, price: { amount: 1, currency: 'EUR' } }));
      assert.equal(r.status, 200, r.text);
    }
  });
  after(() => h.close());

  it('listens on loopback', { skip: socket ? false : 'inject() uses no socket' }, () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  describe('POST /v1/commands', () => {
    it('applies a signed command and answers 200 with a receipt', async () => {
      const env = h.sign('UpsertProduct', { sku: 'http-1', name: 'Tea', price: { amount: 450, currency: 'EUR' } });
      const res = await post(env);
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(res.body.status, 'OK');
      assert.equal(res.body.requestId, env.requestId);
      assert.match(res.body.commandHash, /^[0-9a-f]{64}$/);
      assert.equal(res.body.receipt.log, 'writ.local/default/commerce');
      assert.equal(typeof res.body.receipt.index, 'number');
      assert.match(res.body.receipt.leafHash, /^[0-9a-f]{64}$/);
    });

    it('replays the stored answer byte for byte with Idempotent-Replayed: true', async () => {
      const env = h.sign('UpsertProduct', { sku: 'http-2', name: 'Tea', price: { amount: 1, currency: 'EUR' } });
      const first = await post(env);
      const again = await post(env);
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(again.text, first.text);
    });

    it('works through the SDK client as well', { skip: socket ? false : 'the SDK client needs a socket' }, async () => {
      const answer = await client.submit(h.sign('UpsertProduct', { sku: 'http-sdk', name: 'Tea', price: { amount: 1, currency: 'EUR' } }));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status, 'OK');
    });

    it('answers a refused command with its registry status and the error shape', async () => {
      const res = await post(h.sign('UpsertProduct', { sku: 'http-3' }));
      assert.equal(res.status, 400);
      assertErrorShape(res.body, 'INVALID_PAYLOAD');
    });

    it('answers a body that is not JSON with 400 INVALID_ENVELOPE', async () => {
      const res = await post('{"v":1,');
      assert.equal(res.status, 400, res.text);
      assertErrorShape(res.body, 'INVALID_ENVELOPE');
    });

    it('answers an unsigned envelope with 401', async () => {
      const { signature: _s, ...unsigned } = h.sign('UpsertProduct', { sku: 'http-4', name: 'x', price: { amount: 1, currency: 'EUR' } });
      const res = await post(unsigned);
      assert.equal(res.status, 401, res.text);
      assertErrorShape(res.body, 'UNAUTHENTICATED');
    });
  });

  describe('GET /v1/commands/{tenant}/{requestId}', () => {
    it('answers the stored outcome with the original status in Writ-Command-Status', async () => {
      const env = h.sign('UpsertProduct', { sku: 'status-1', name: 'Tea', price: { amount: 1, currency: 'EUR' } });
      const submitted = await post(env);
      const res = await get(`/v1/commands/${h.tenant}/${env.requestId}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('writ-command-status'), '200');
      assert.equal(res.text, submitted.text);
    });

    it('answers a refused command\'s outcome with its original status in the header', async () => {
      const env = h.sign('UpsertProduct', { sku: 'status-2', name: 'Tea', price: { amount: 1, currency: 'EUR' } }, { expectedVersion: 4 });
      await post(env);
      const res = await get(`/v1/commands/${h.tenant}/${env.requestId}?actor=admin`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('writ-command-status'), '409');
      assert.equal(res.body.code, 'VERSION_CONFLICT');
    });

    it('answers 409 INVALID_STATE naming the actors when several used the requestId, and ?actor= picks one', async () => {
      const other = await h.actor('olga', ['editor']);
      const requestId = 'shared-request-1';
      await post(h.sign('UpsertProduct', { sku: 'shared-a', name: 'A', price: { amount: 1, currency: 'EUR' } }, { requestId }));
      await post(h.sign('UpsertProduct', { sku: 'shared-b', name: 'B', price: { amount: 1, currency: 'EUR' } }, { requestId }, other));
      const both = await get(`/v1/commands/${h.tenant}/${requestId}`);
      assert.equal(both.status, 409);
      assertErrorShape(both.body, 'INVALID_STATE');
      assert.deepEqual([...both.body.details.actors].sort(), ['admin', 'olga']);
      const olga = await get(`/v1/commands/${h.tenant}/${requestId}?actor=olga`);
      assert.equal(olga.status, 200);
      assert.equal(olga.body.status, 'OK');
    });

    it('answers 404 NOT_FOUND for an unknown requestId, a malformed one and another actor, and 403 for another tenant', async () => {
      for (const path of [`/v1/commands/${h.tenant}/never-submitted-1`, `/v1/commands/${h.tenant}/short`]) {
        const res = await get(path);
        assert.equal(res.status, 404, path);
        assertErrorShape(res.body, 'NOT_FOUND');
      }
      const other = await get('/v1/commands/other-tenant/never-submitted-2');
      assert.equal(other.status, 403);
      assertErrorShape(other.body, 'FORBIDDEN');
      const env = h.sign('UpsertProduct', { sku: 'status-3', name: 'Tea', price: { amount: 1, currency: 'EUR' } });
      await post(env);
      assert.equal((await get(`/v1/commands/${h.tenant}/${env.requestId}?actor=someone-else`)).status, 404);
    });
  });

  describe('GET /v1/entities/{tenant}/{type}/{id}', () => {
    it('answers the current version of an entity', async () => {
      const res = await get(`/v1/entities/${h.tenant}/product/a-1`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ['deleted', 'doc', 'id', 'index', 'scroll', 'tenant', 'type', 'updatedAt', 'updatedBy', 'version']);
      assert.equal(res.body.tenant, h.tenant);
      assert.equal(res.body.type, 'product');
      assert.equal(res.body.id, 'a-1');
      assert.equal(res.body.version, 1);
      assert.equal(res.body.deleted, false);
      assert.equal(res.body.doc.name, 'a-1');
    });

    it('answers a point-in-time read with ?at=', async () => {
      const one = await post(h.sign('UpsertProduct', { sku: 'pit', name: 'one', price: { amount: 1, currency: 'EUR' } }));
      await post(h.sign('UpsertProduct', { sku: 'pit', name: 'two', price: { amount: 2, currency: 'EUR' } }));
      const res = await get(`/v1/entities/${h.tenant}/product/pit?at=${one.body.receipt.index}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.version, 1);
      assert.equal(res.body.doc.name, 'one');
      assert.equal((await get(`/v1/entities/${h.tenant}/product/pit`)).body.doc.name, 'two');
      const early = await get(`/v1/entities/${h.tenant}/product/pit?at=0`);
      assert.equal(early.status, 404);
      assertErrorShape(early.body, 'NOT_FOUND');
    });

    it('answers 404 NOT_FOUND for a missing entity and an unknown type, 403 for an invalid (so another) tenant', async () => {
      for (const path of [`/v1/entities/${h.tenant}/product/missing`, `/v1/entities/${h.tenant}/spaceship/a-1`, `/v1/entities/${h.tenant}/Bad_Type/a-1`]) {
        const res = await get(path);
        assert.equal(res.status, 404, path);
        assertErrorShape(res.body, 'NOT_FOUND');
      }
      const other = await get('/v1/entities/-bad-/product/a-1');
      assert.equal(other.status, 403);
      assertErrorShape(other.body, 'FORBIDDEN');
    });

    it('answers 400 for an ?at= that is not a non-negative integer', async () => {
      for (const at of ['abc', '-1', '1.5', '']) {
        const res = await get(`/v1/entities/${h.tenant}/product/a-1?at=${at}`);
        assert.equal(res.status, 400, `at=${at}: ${res.text}`);
        assertErrorShape(res.body, 'INVALID_ENVELOPE');
      }
    });

    it('reads an id that contains slashes when it is percent-encoded', async () => {
      await post(h.sign('UpsertRoute', { path: '/shop/tea', pageId: 'tea' }));
      const res = await get(`/v1/entities/${h.tenant}/route/${encodeURIComponent('/shop/tea')}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, '/shop/tea');
    });
  });

  describe('GET /v1/entities/{tenant}/{type}', () => {
    it('pages through entities by id with after, limit and next', async () => {
      const seen: string[] = [];
      let after: string | null = 'a-';
      let pages = 0;
      while (after !== null && after.startsWith('a-')) {
        const res = await get(`/v1/entities/${h.tenant}/product?limit=2&after=${encodeURIComponent(after)}`);
        assert.equal(res.status, 200);
        assert.ok(res.body.items.length <= 2);
        for (const item of res.body.items) if (item.id.startsWith('a-')) seen.push(item.id);
        after = res.body.next;
        pages++;
      }
      assert.deepEqual(seen, ['a-1', 'a-2', 'a-3', 'a-4', 'a-5']);
      assert.ok(pages >= 3);
    });

    it('answers next: null on the last page', async () => {
      const res = await get(`/v1/entities/${h.tenant}/product?limit=1000`);
      assert.equal(res.status, 200);
      assert.equal(res.body.next, null);
      const ids = res.body.items.map((x: { id: string }) => x.id);
      assert.deepEqual(ids, [...ids].sort(), 'ordered by id');
    });

    it('answers next as the last id of a full page', async () => {
      const res = await get(`/v1/entities/${h.tenant}/product?limit=2`);
      assert.equal(res.body.items.length, 2);
      assert.equal(res.body.next, res.body.items[1].id);
    });

    it('answers an empty page for a type with no entities', async () => {
      const res = await get(`/v1/entities/${h.tenant}/nothing-here`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { items: [], next: null });
    });

    it('answers 400 for limit=abc, limit=0 and a limit above 1000', async () => {
      for (const limit of ['abc', '0', '1001']) {
        const res = await get(`/v1/entities/${h.tenant}/product?limit=${limit}`);
        assert.equal(res.status, 400, `limit=${limit}`);
        assertErrorShape(res.body, 'INVALID_ENVELOPE');
        assert.match(res.body.message, /limit/);
      }
    });
  });

  describe('GET /v1/actions', () => {
    it('lists every action of the catalog, including the writ.* system actions', async () => {
      const res = await get('/v1/actions');
      assert.equal(res.status, 200);
      const names = res.body.actions.map((a: { name: string }) => a.name).sort();
      assert.deepEqual(names, h.writ.catalog.actions().map((a) => a.name).sort());
      for (const n of ['SaveDraftPage', 'SubmitForReview', 'PublishPageVersion', 'RollbackPage', 'UpsertRoute', 'DeleteRoute', 'UpsertProduct', 'AssignRole', 'RevokeRole', 'UpsertProfile', 'GrantEntitlement', 'RevokeEntitlement', 'writ.RegisterKey', 'writ.RevokeKey', 'writ.SetFlag']) {
        assert.ok(names.includes(n), n);
      }
      const upsert = res.body.actions.find((a: { name: string }) => a.name === 'UpsertProduct');
      assert.equal(upsert.pack, 'commerce');
      assert.equal(upsert.scroll, 'commerce');
      assert.equal(upsert.effect, 'upsert');
      assert.equal(upsert.payload.type, 'object');
    });
  });

  describe('GET /v1/ledger/{tenant}/{scroll}/records', () => {
    it('answers records with their exact leaf bytes and leaf hashes', async () => {
      const res = await get(`/v1/ledger/${h.tenant}/commerce/records?from=0&limit=3`);
      assert.equal(res.status, 200);
      assert.equal(res.body.log, 'writ.local/default/commerce');
      assert.equal(res.body.records.length, 3);
      assert.equal(res.body.next, 3);
      res.body.records.forEach((r: { index: number; leafHash: string; leaf: string; record: Record<string, unknown> }, i: number) => {
        assert.equal(r.index, i);
        const leaf = Buffer.from(r.leaf, 'base64');
        assert.equal(refLeafHash(leaf), r.leafHash);
        assert.deepEqual(JSON.parse(leaf.toString('utf8')), r.record);
      });
    });

    it('pages with from and limit and ends with next: null', async () => {
      const all: number[] = [];
      let from: number | null = 0;
      while (from !== null) {
        const res = await get(`/v1/ledger/${h.tenant}/commerce/records?from=${from}&limit=4`);
        assert.equal(res.status, 200);
        for (const r of res.body.records) all.push(r.index);
        from = res.body.next;
      }
      assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => i));
      const size = h.writ.applier.logSizes().find((l) => l.tenant === h.tenant && l.scroll === 'commerce')!.size;
      assert.equal(all.length, size);
    });

    it('answers an empty list past the end and for a log that does not exist', async () => {
      const past = await get(`/v1/ledger/${h.tenant}/commerce/records?from=100000`);
      assert.equal(past.status, 200);
      assert.deepEqual(past.body.records, []);
      assert.equal(past.body.next, null);
      const none = await get(`/v1/ledger/${h.tenant}/nolog/records`);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body.records, []);
    });

    it('answers 400 for a bad from or limit and 404 for an invalid scroll name', async () => {
      for (const q of ['from=abc', 'limit=abc', 'limit=0', 'from=-1']) {
        const res = await get(`/v1/ledger/${h.tenant}/commerce/records?${q}`);
        assert.equal(res.status, 400, q);
        assertErrorShape(res.body, 'INVALID_ENVELOPE');
      }
      const bad = await get(`/v1/ledger/${h.tenant}/Not_A_Scroll/records`);
      assert.equal(bad.status, 404);
      assertErrorShape(bad.body, 'NOT_FOUND');
    });
  });

  describe('GET /healthz', () => {
    it('answers ok with the durability setting and the size of every log', async () => {
      const res = await get('/healthz');
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'ok');
      assert.match(res.body.store, backend === 'sqlite' ? /sqlite/ : /postgresql/);
      const commerce = res.body.logs.find((l: { tenant: string; scroll: string }) => l.tenant === h.tenant && l.scroll === 'commerce');
      assert.equal(commerce.origin, 'writ.local/default/commerce');
      assert.ok(commerce.size >= 5);
      assert.equal(typeof res.body.apply.batches, 'number');
    });
  });

  describe('GET /openapi.json', () => {
    it('is an OpenAPI 3.1.0 document that describes every route', async () => {
      const res = await get('/openapi.json');
      assert.equal(res.status, 200);
      assert.equal(res.body.openapi, '3.1.0');
      const paths = Object.keys(res.body.paths).sort();
      for (const p of ['/v1/commands', '/v1/commands/{tenant}/{requestId}', '/v1/entities/{tenant}/{type}/{id}', '/v1/entities/{tenant}/{type}', '/v1/actions', '/v1/ledger/{tenant}/{scroll}/records', '/healthz']) {
        assert.ok(paths.includes(p), `openapi has ${p}`);
      }
      assert.ok(res.body.paths['/v1/commands'].post);
      assert.ok(res.body.components.schemas.Envelope);
    });

    it('documents only paths the server serves', async () => {
      // A documented path must not fall through to the not-found handler ("no route …").
      const doc = (await get('/openapi.json')).body;
      for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
        const concrete = path.replace('{tenant}', h.tenant).replace('{requestId}', 'req-00000001').replace('{type}', 'product').replace('{id}', 'a-1').replace('{scroll}', 'commerce');
        for (const method of Object.keys(ops)) {
          const res = method === 'post' ? await post(h.sign('UpsertProduct', { sku: 'oa', name: 'x', price: { amount: 1, currency: 'EUR' } })) : await get(concrete);
          assert.ok(!(res.status === 404 && /^no route/.test(res.body?.message ?? '')), `${method} ${path} is served`);
        }
      }
    });

    it('documents the extra path /openapi.json itself', async () => {
      const doc = (await get('/openapi.json')).body;
      assert.ok(doc.paths['/openapi.json']);
    });
  });

  describe('unknown routes and odd requests', () => {
    it('answers an unknown route with 404 NOT_FOUND in the answer shape', async () => {
      const res = await get('/v2/nothing');
      assert.equal(res.status, 404);
      assertErrorShape(res.body, 'NOT_FOUND');
      assert.equal(res.body.requestId, null);
      assert.equal(res.body.commandHash, null);
      assert.match(res.body.message, /\/v2\/nothing/);
    });

    it('answers a known path with an unsupported method with 404 in the answer shape', async () => {
      const res = await call('DELETE', '/v1/actions');
      assert.equal(res.status, 404);
      assertErrorShape(res.body, 'NOT_FOUND');
    });

    it('answers a POST whose body exceeds the size limit with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await post(JSON.stringify({ pad: 'x'.repeat(h.writ.config.intake.maxBytes + 1) }));
      assert.equal(res.status, 413);
      assertErrorShape(res.body, 'PAYLOAD_TOO_LARGE');
    });

    it('answers odd but well-formed HTTP requests without ever answering 5xx', async () => {
      const odd: Array<[string, string, string | undefined, Record<string, string>]> = [
        ['POST', '/v1/commands', '', {}],
        ['POST', '/v1/commands', 'null', { 'content-type': 'application/json' }],
        ['POST', '/v1/commands', '[]', { 'content-type': 'application/json' }],
        ['POST', '/v1/commands', '"text"', { 'content-type': 'text/plain' }],
        ['POST', '/v1/commands', '{"v":1}', { 'content-type': 'application/x-www-form-urlencoded' }],
        ['POST', '/v1/commands', '{"a":1,"a":2}', { 'content-type': 'application/json' }],
        ['POST', '/v1/commands', '{"v":1e400}', { 'content-type': 'application/json' }],
        ['POST', '/v1/commands', '\uFEFF{}', { 'content-type': 'application/json' }],
        ['POST', '/v1/commands', '{}', { 'content-type': 'application/json', authorization: 'Basic abc' }],
        ['POST', '/v1/commands', '{}', { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' }],
        ['GET', '/v1/commands/default/%E0%A4%A', undefined, {}],
        ['GET', `/v1/entities/default/product/${'x'.repeat(5000)}`, undefined, {}],
        ['GET', '/v1/entities/default/product/%00', undefined, {}],
        ['GET', '/v1/entities/default/product/a-1?at=99999999999999999999', undefined, {}],
        ['GET', '/v1/entities/default/product?after=%FF', undefined, {}],
        ['GET', '/v1/entities/default/product?limit=1&limit=2', undefined, {}],
        ['GET', '/v1/ledger/default/commerce/records?from=999999999999999', undefined, {}],
        ['GET', '/v1/ledger/default/commerce/records?limit[]=1', undefined, {}],
        ['GET', '/%2e%2e/%2e%2e/etc/passwd', undefined, {}],
        ['PUT', '/v1/commands', '{}', { 'content-type': 'application/json' }],
        ['OPTIONS', '/v1/commands', undefined, {}],
      ];
      for (const [method, path, body, headers] of odd) {
        const res = await call(method, path, body, headers);
        assert.ok(res.status < 500, `${method} ${path.slice(0, 60)} answered ${res.status}: ${res.text.slice(0, 200)}`);
        if (res.status >= 400) assert.equal(res.body.status, 'ERROR', `${method} ${path.slice(0, 60)} answers in the error shape`);
      }
    });

    it('answers a path that does not percent-decode with 400 in the answer shape', async () => {
      const status = await rawGet('/v1/entities/default/product/%');
      statuses.push({ what: 'GET raw %', status: status.code });
      assert.equal(status.code, 400, `answered ${status.code}`);
      assertErrorShape(JSON.parse(status.text), 'INVALID_ENVELOPE');
    });

    it('never answered 5xx to any request of this suite', () => {
      assert.ok(statuses.length > 50);
      const bad = statuses.filter((s) => s.status >= 500);
      assert.deepEqual(bad, []);
    });
  });
});
