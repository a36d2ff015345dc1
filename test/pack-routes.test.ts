import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PackSurfaceError } from '../src/catalog/pack-routes.js';
import { loadConfig } from '../src/config/config.js';
import { initHome } from '../src/home/init.js';
import { buildServer } from '../src/transports/http/server.js';
import { openWrit, type Writ } from '../src/writ.js';
import { runWrit } from './support/cli.js';
import { noteActions, writeHomePack } from './support/home-pack.js';

/** A pack.js whose setup returns these routes (a JS expression over `route(method, path, extra)`). */
const routesJs = (routes: string) => `const route = (method, path, extra = {}) => ({ method, path, access: { kind: 'public' }, openapi: { summary: 'a route' }, handler: () => ({ taken: true }), ...extra });
export default () => ({ routes: ${routes} });
`;

/**
 * A pack may serve routes only under its own prefix `/v1/<pack>/`, each with a declared access
 * (docs/packs.md, "Routes"): a deployment pack that reaches for writ's own routes or another pack's
 * is refused when writ starts, before anything is served.
 */
describe('a deployment pack reaching for routes it does not own', () => {
  const homes: string[] = [];
  after(() => {
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  async function home(pack: string, packJs: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'writ-pack-routes-'));
    homes.push(dir);
    await initHome(dir, { port: 0 });
    writeHomePack(dir, pack, noteActions(pack), packJs);
    return dir;
  }

  /** What writ refuses to start with (open, then build the server), when pack `pack` declares `routes`. */
  async function refusalAtStart(pack: string, routes: string): Promise<PackSurfaceError> {
    let writ: Writ | undefined;
    try {
      writ = await openWrit(loadConfig(await home(pack, routesJs(routes))));
      await buildServer(writ).close();
    } catch (err) {
      assert.ok(err instanceof PackSurfaceError, `not a PackSurfaceError: ${String(err)}`);
      assert.equal(err.pack, pack);
      return err;
    } finally {
      await writ?.close();
    }
    assert.fail(`writ started with pack ${pack} serving ${routes}`);
  }

  it('refuses a pack route at POST /v1/commands, naming the pack and the path', async () => {
    const err = await refusalAtStart('ticker', "[route('POST', '/v1/commands')]");
    assert.match(err.message, /pack ticker: route POST \/v1\/commands lies outside its prefix \/v1\/ticker\//);
  });

  it('refuses a pack route among the entity reads, where a static segment would shadow /v1/entities/:tenant/:type', async () => {
    const err = await refusalAtStart('ticker', "[route('GET', '/v1/entities/:tenant/note/:id')]");
    assert.match(err.message, /route GET \/v1\/entities\/:tenant\/note\/:id lies outside its prefix/);
  });

  it("refuses a pack route under another pack's prefix, naming both packs", async () => {
    const err = await refusalAtStart('ticker', "[route('GET', '/v1/knowledge/:tenant/entry')]");
    assert.equal(err.owner, 'knowledge');
    assert.match(err.message, /pack ticker: .* under pack knowledge's prefix \/v1\/knowledge\//);
  });

  it("refuses a pack whose own prefix is writ's (a pack named entities), naming writ's route", async () => {
    const err = await refusalAtStart('entities', "[route('GET', '/v1/entities/:tenant/note/:id')]");
    assert.match(err.owner ?? '', /^GET \/v1\/entities\/:tenant\//);
    assert.match(err.message, /pack entities may not serve routes under \/v1\/entities\/: writ's own route GET \/v1\/entities\//);
  });

  it('refuses a path that climbs out of its prefix', async () => {
    const err = await refusalAtStart('ticker', "[route('GET', '/v1/ticker/../commands')]");
    assert.match(err.message, /segment "\.\." is not a name/);
  });

  it('refuses a pack route that declares no access, or the access of POST /v1/commands (no credential looked at)', async () => {
    assert.match((await refusalAtStart('ticker', "[route('GET', '/v1/ticker/open', { access: undefined })]")).message, /route GET \/v1\/ticker\/open declares no access/);
    assert.match((await refusalAtStart('ticker', "[route('GET', '/v1/ticker/open', { access: { kind: 'command' } })]")).message, /access "command" is not one a pack route may declare/);
  });

  it("refuses a CLI command named like one of writ's own, which stays writ's", async () => {
    const dir = await home('ledger', "export default () => ({ cli: { description: 'a ledger of its own', register(cmd) { cmd.command('show').action(() => console.log('the pack ran')); } } });\n");
    const help = await runWrit(['--home', dir, '--help']);
    assert.notEqual(help.code, 0);
    assert.match(help.stderr, /pack ledger may not add the command `writ ledger`: it is one of writ's own/);
    const own = await runWrit(['--home', dir, 'ledger', '--help']);
    assert.equal(own.code, 0, own.stderr);
    assert.doesNotMatch(own.stdout, /a ledger of its own/);
  });
});
