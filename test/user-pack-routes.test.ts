import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CODES } from '../src/core/codes.js';
import type { Signer } from '../src/sdk/sign.js';
import { packageRoot } from '../src/util/package-root.js';
import { runWrit } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { noteActions, writeHomePack } from './support/home-pack.js';
import { actorIn } from './support/tenants.js';

const PACK_API = pathToFileURL(join(packageRoot(), 'dist', 'src', 'catalog', 'pack-api.js')).href;

/**
 * The pack.js a deployment writes: a service, a read route of its notes (a tenant read decided as
 * read:entity), an admin route that takes a JSON body, `writ ticker show <id>` reading through the
 * server and `writ ticker census`, which needs the home to itself.
 */
const PACK_JS = `import { HandlerRefusal } from ${JSON.stringify(PACK_API)};
export default (env) => ({
  service: env ? { greeting: 'hello from ' + env.config.tenant } : undefined,
  routes: [
    {
      method: 'GET',
      path: '/v1/ticker/:tenant/notes/:id',
      access: { kind: 'tenant', tenantIn: 'params', read: (p) => ({ kind: 'entity', resource: 'note/' + p.id }) },
      openapi: { summary: 'A note of the ticker pack', responses: { '200': { description: 'the note' } } },
      async handler(req, ctx) {
        const row = await ctx.entities.getEntity(req.params.tenant, 'note', req.params.id);
        if (!row) throw new HandlerRefusal('NOT_FOUND', 'no note ' + req.params.id);
        return { id: row.id, text: row.doc.text, by: req.identity.actor, greeting: ctx.service.greeting };
      },
    },
    {
      method: 'POST',
      path: '/v1/ticker/:tenant/echo',
      access: { kind: 'admin', what: 'the ticker echo', tenantIn: 'params' },
      openapi: { summary: 'The keys of a JSON body' },
      handler: (req) => ({ keys: Object.keys(req.json()), bytes: req.body.length }),
    },
  ],
  cli: {
    description: 'the ticker pack',
    register(cmd, ctx) {
      ctx.signerOptions(cmd.command('show')).argument('<id>').action(async (id, opts, c) => {
        const tenant = opts.tenant ?? ctx.config(c).tenant;
        const answer = await ctx.client(c, { ...opts, tenant }).get('/v1/ticker/' + tenant + '/notes/' + id);
        ctx.print(answer.body);
        process.exitCode = ctx.exitCodeOf(answer);
      });
      cmd.command('census').action(async (_o, c) => ctx.print(await ctx.offline(c, 'writ ticker census', async (config) => ({ tenant: config.tenant }))));
    },
  },
});
`;

/**
 * A pack in the home has the powers of a built-in one (DESIGN §4): here a route and a command line,
 * as the knowledge pack's reads and `writ knowledge`. Its route passes the same access gate as
 * writ's own routes and is in the OpenAPI document; its command runs in a real CLI process.
 */
describe('a deployment pack with its own route and command', () => {
  let h: Harness;
  let olga: Signer;
  let notes: string;
  before(async () => {
    h = await startHarness();
    writeHomePack(h.home, 'ticker', noteActions('ticker'), PACK_JS);
    await h.restart();
    olga = await actorIn(h, 'other', 'olga', ['admin']);
    notes = `/v1/ticker/${h.tenant}/notes`;
    assert.equal((await h.post(h.sign('SaveNote', { id: 'n1', text: 'first note' }))).status, 200);
  });
  after(async () => {
    await h.close();
  });

  it("serves its route to an identity of the tenant, with the pack's service and entity reads", async () => {
    const res = await h.get(`${notes}/n1`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { id: 'n1', text: 'first note', by: h.writ.config.admin, greeting: `hello from ${h.tenant}` });
  });

  it("refuses an unidentified caller and another tenant's identity, as a core route does", async () => {
    const anonymous = await h.getAs(`${notes}/n1`, null);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'UNAUTHENTICATED');
    const other = await h.getAs(`${notes}/n1`, olga, { tenant: 'other' });
    assert.equal(other.status, 403);
    assert.equal(other.body.code, 'FORBIDDEN');
  });

  it("answers a refusal its handler throws with the refusal's code", async () => {
    const res = await h.get(`${notes}/nope`);
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'NOT_FOUND');
    assert.match(res.body.message, /no note nope/);
  });

  it("takes a JSON body within the server's limit, from an admin only", async () => {
    const url = `/v1/ticker/${h.tenant}/echo`;
    const post = (payload: string | Buffer, auth: boolean) =>
      h.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...(auth ? { authorization: h.readAuth('POST', url) } : {}) } });
    const ok = await post('{"a":1,"b":2}', true);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(JSON.parse(ok.body), { keys: ['a', 'b'], bytes: 13 });
    assert.equal((await post('{"a":1}', false)).statusCode, 401);
    const notJson = await post('not json', true);
    assert.equal(notJson.statusCode, 400);
    assert.equal(JSON.parse(notJson.body).code, 'INVALID_PAYLOAD');
    const huge = await post(Buffer.alloc(h.writ.config.intake.maxBytes + 1, 0x20), true);
    assert.equal(huge.statusCode, 413);
    assert.equal(JSON.parse(huge.body).code, 'PAYLOAD_TOO_LARGE');
  });

  it('is documented in /openapi.json with who may call it', async () => {
    const doc = (await h.getAs('/openapi.json', null)).body;
    const op = doc.paths[`/v1/ticker/{tenant}/notes/{id}`]?.get;
    assert.ok(op, 'the route is in the document');
    assert.equal(op.summary, 'A note of the ticker pack');
    assert.equal(op['x-writ-pack'], 'ticker');
    assert.deepEqual(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), ['path:tenant', 'path:id']);
    assert.ok(op.security?.length, 'it needs a credential');
    assert.ok(doc.paths['/v1/ticker/{tenant}/echo']?.post, 'the POST route too');
  });

  it('runs its command in a real CLI process, reading through the server', async () => {
    const url = await h.listen();
    const run = await runWrit(['--home', h.home, '--url', url, 'ticker', 'show', 'n1']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(JSON.parse(run.stdout).text, 'first note');
    const missing = await runWrit(['--home', h.home, '--url', url, 'ticker', 'show', 'nope']);
    assert.equal(missing.code, CODES.NOT_FOUND.exit, missing.stdout + missing.stderr);
    const help = await runWrit(['--home', h.home, '--help']);
    assert.match(help.stdout, /ticker\s+the ticker pack/);
  });

  it('refuses its offline command while the server holds the home', async () => {
    const run = await runWrit(['--home', h.home, 'ticker', 'census']);
    assert.equal(run.code, CODES.UNAVAILABLE.exit, run.stdout + run.stderr);
    assert.match(run.stderr, /writ ticker census needs the home to itself/);
  });
});
