import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startMcpHome, type McpHome } from './support/mcp.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

/**
 * The Streamable HTTP endpoint itself, with raw requests: who may open a session, what a session
 * is bound to, and the bounds on bodies and sessions that keep an agent from exhausting the server.
 */
describe('MCP over HTTP at /mcp', () => {
  let m: McpHome;
  let time = Date.now();
  let bot: string;

  before(async () => {
    m = await startMcpHome({ mcp: { maxSessions: 3, maxSessionsPerActor: 2, sessionIdleSeconds: 60 } } as never, undefined, { now: () => time });
    await m.h.actor('bot', ['editor']);
    await m.h.actor('eve', ['editor']);
    bot = await m.token('bot');
  });
  after(async () => {
    await m?.close();
  });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
    const res = await fetch(new URL('/mcp', m.url), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* empty or text */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  async function session(token: string): Promise<string> {
    const res = await post(INIT, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.headers.get('mcp-session-id')!;
  }

  const withSession = (token: string, id: string) => ({ authorization: `Bearer ${token}`, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' });

  it('refuses a request without a credential, with a read token or with a forged token, and opens no session', async () => {
    const before = m.h.app.mcpSessions.size;
    const none = await post(INIT);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'UNAUTHENTICATED');
    // A read token signed with a registered key is bound to one request; /mcp takes bearer JWTs only.
    const readToken = await post(INIT, { authorization: m.h.readAuth('POST', '/mcp') });
    assert.equal(readToken.status, 401);
    assert.match(readToken.body.message, /writ mcp --key/);
    const forged = await post(INIT, { authorization: `Bearer ${bot.slice(0, -4)}AAAA` });
    assert.equal(forged.status, 401);
    assert.equal(m.h.app.mcpSessions.size, before);
  });

  it('opens a session only with initialize, and answers JSON (never an event stream)', async () => {
    const orphan = await post(LIST, { authorization: `Bearer ${bot}` });
    assert.equal(orphan.status, 400);
    assert.equal(orphan.body.code, 'INVALID_ENVELOPE');
    const id = await session(bot);
    const listed = await post(LIST, withSession(bot, id));
    assert.equal(listed.status, 200);
    assert.match(String(listed.headers.get('content-type')), /application\/json/);
    assert.ok(listed.body.result.tools.some((t: any) => t.name === 'submit'));
  });

  it("binds a session to its identity: another agent naming it is told it does not exist, and cannot end it", async () => {
    const id = await session(bot);
    const eve = await m.token('eve');
    const hijack = await post(LIST, withSession(eve, id));
    assert.equal(hijack.status, 404);
    assert.equal(hijack.body.code, 'NOT_FOUND');
    const end = await fetch(new URL('/mcp', m.url), { method: 'DELETE', headers: withSession(eve, id) });
    assert.equal(end.status, 404);
    assert.equal((await post(LIST, withSession(bot, id))).status, 200, 'the session is still its owner\'s');
    const own = await fetch(new URL('/mcp', m.url), { method: 'DELETE', headers: withSession(bot, id) });
    assert.equal(own.status, 200);
    assert.equal((await post(LIST, withSession(bot, id))).status, 404, 'ended');
  });

  it('refuses a body over its limit before parsing it, and a body that is not strict JSON', async () => {
    const limit = m.h.writ.config.intake.maxBytes + 16 * 1024;
    const big = await post(JSON.stringify({ ...INIT, pad: 'x'.repeat(limit) }), { authorization: `Bearer ${bot}` });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'PAYLOAD_TOO_LARGE');
    assert.match(big.body.message, new RegExp(String(limit)));
    const duplicate = await post('{"jsonrpc":"2.0","id":1,"id":2,"method":"initialize","params":{}}', { authorization: `Bearer ${bot}` });
    assert.equal(duplicate.status, 400);
    assert.equal(duplicate.body.code, 'INVALID_ENVELOPE');
  });

  it('bounds sessions: an actor past its share loses its oldest, the endpoint past its total refuses UNAVAILABLE, and idle ones are closed', async () => {
    const sessions = m.h.app.mcpSessions;
    await sessions.closeAll();
    const first = await session(bot);
    const second = await session(bot);
    const third = await session(bot);
    assert.equal(sessions.size, 2, 'two per actor');
    assert.equal((await post(LIST, withSession(bot, first))).status, 404, 'the oldest was closed');
    assert.equal((await post(LIST, withSession(bot, third))).status, 200);
    const eve = await m.token('eve');
    await session(eve);
    const full = await post(INIT, { authorization: `Bearer ${eve}` });
    assert.equal(full.status, 503);
    assert.equal(full.body.code, 'UNAVAILABLE');
    assert.ok(Number(full.headers.get('retry-after')) > 0);
    // Past the idle time, the sweeper closes them all, and a new session has room again.
    time += 61_000;
    assert.equal(await sessions.sweep(), 3);
    assert.equal((await post(LIST, withSession(bot, second))).status, 404);
    await session(eve);
  });

  it('never lets concurrent initializes overshoot the number of sessions', async () => {
    const sessions = m.h.app.mcpSessions;
    await sessions.closeAll();
    const tokens = [bot, await m.token('eve'), bot, await m.token('eve'), bot, await m.token('eve')];
    const answers = await Promise.all(tokens.map((t) => post(INIT, { authorization: `Bearer ${t}` })));
    assert.ok(sessions.size <= 3, `${sessions.size} sessions`);
    assert.ok(answers.every((a) => a.status === 200 || (a.status === 503 && a.body.code === 'UNAVAILABLE')), JSON.stringify(answers.map((a) => a.status)));
    await sessions.closeAll();
    assert.equal((await post(INIT, { authorization: `Bearer ${bot}` })).status, 200, 'every place was given back');
  });

  it('offers no server-to-client stream: GET /mcp is 405', async () => {
    const res = await fetch(new URL('/mcp', m.url), { headers: { accept: 'text/event-stream', authorization: `Bearer ${bot}` } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST, DELETE');
  });
});
