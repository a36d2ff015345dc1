import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { CODES } from '../src/core/codes.js';
import { call, httpClient, startMcpHome, stdioClient, type McpHome } from './support/mcp.js';

/** Route changes of role `router` wait for one router's approval (so a router agent holds them and cannot approve them). */
const HOLD_ROUTES = '@approval("quorum=1 roles=router")\npermit (principal in Writ::Role::"router", action == Writ::Action::"UpsertRoute", resource);\n';

const product = (sku: string, amount = 100) => ({ sku, name: `Product ${sku}`, price: { amount, currency: 'EUR' } });

/**
 * The MCP tools through the SDK's real Client, over both transports: `writ mcp` spawned on stdio
 * (the agent's key, against the running server) and the server's /mcp endpoint (a bearer JWT).
 * Each transport acts as its own agent, `bot-stdio` or `bot-http`, with the roles editor and router.
 */
for (const transport of ['stdio', 'http'] as const) {
  describe(`MCP tools over ${transport}`, () => {
    let m: McpHome;
    let client: Client;
    const agent = `bot-${transport}`;

    before(async () => {
      m = await startMcpHome({}, HOLD_ROUTES);
      const key = await m.agent(agent, ['editor', 'router']);
      client = transport === 'stdio' ? await stdioClient(m, key) : await httpClient(m, await m.token(agent));
    });
    after(async () => {
      await client?.close();
      await m?.close();
    });

    it('lists the tools, with submit naming every catalog action, and the catalog and policy schema as resources', async () => {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['canon_seq', 'get_command', 'get_entity', 'get_receipt', 'inbox', 'kip_get', 'kip_log', 'knowledge_status', 'ledger_tail', 'list_actions', 'list_approvals', 'list_entities', 'proposal_preview', 'run_abort', 'run_complete_stage', 'run_next', 'run_receipt', 'run_seal', 'run_show', 'run_start', 'search', 'submit', 'verify_receipt']);
      const submit = tools.find((t) => t.name === 'submit')!;
      const actions = (submit.inputSchema.properties as any).action.enum as string[];
      for (const a of m.h.writ.catalog.actions()) assert.ok(actions.includes(a.name), `submit names ${a.name}`);
      assert.equal(tools.find((t) => t.name === 'get_entity')!.annotations?.readOnlyHint, true);
      const { resources } = await client.listResources();
      assert.deepEqual(resources.map((r) => r.uri).sort(), ['writ://catalog/actions', 'writ://policy/schema']);
      const catalog = JSON.parse(String(((await client.readResource({ uri: 'writ://catalog/actions' })).contents[0] as { text: string }).text));
      assert.ok(catalog.actions.some((a: any) => a.name === 'UpsertProduct' && a.payload.required.includes('sku')));
      const schema = String(((await client.readResource({ uri: 'writ://policy/schema' })).contents[0] as { text: string }).text);
      assert.match(schema, /namespace Writ/);
      await assert.rejects(client.readResource({ uri: 'writ://nothing' }), (e: McpError) => e.code === CODES.NOT_FOUND.mcp && (e.data as any).code === 'NOT_FOUND');
    });

    it('applies a command signed as the agent, visible in state, in its stored answer and in the ledger', async () => {
      const done = await call(client, 'submit', { action: 'UpsertProduct', payload: product('mcp-tea') });
      assert.equal(done.isError, false, done.text);
      assert.equal(done.value.status, 'OK');
      const entity = await call(client, 'get_entity', { type: 'product', id: 'mcp-tea' });
      assert.equal(entity.value.doc.name, 'Product mcp-tea');
      assert.equal(entity.value.updatedBy, agent);
      const stored = await call(client, 'get_command', { requestId: done.value.requestId });
      assert.equal(stored.value.httpStatus, 200);
      assert.equal(stored.value.answer.commandHash, done.value.commandHash);
      const tail = await call(client, 'ledger_tail', { scroll: 'commerce', n: 5 });
      const record = tail.value.logs[0].records.find((r: any) => r.requestId === done.value.requestId);
      assert.ok(record, 'the command is in the ledger');
      assert.equal(record.actor, agent);
      assert.equal(record.outcome, 'OK');
      assert.equal(record.commandHash, done.value.commandHash);
      // And through the HTTP API, as the admin sees it.
      const http = await m.h.get(`/v1/entities/${m.h.tenant}/product/mcp-tea`);
      assert.equal(http.body.version, entity.value.version);
    });

    it('gives a receipt that verifies offline, and refuses one that was tampered with', async () => {
      const done = await call(client, 'submit', { action: 'UpsertProduct', payload: product('mcp-receipt') });
      const receipt = await call(client, 'get_receipt', { requestId: done.value.requestId });
      assert.equal(receipt.isError, false, receipt.text);
      const ok = await call(client, 'verify_receipt', { receipt: receipt.value.receipt, verifierKey: m.h.writ.signer.vkey, commandHash: done.value.commandHash });
      assert.equal(ok.value.verified, true, ok.text);
      assert.equal(ok.value.record.requestId, done.value.requestId);
      const bad = await call(client, 'verify_receipt', { receipt: receipt.value.receipt, verifierKey: m.h.writ.signer.vkey, commandHash: '0'.repeat(64) });
      assert.equal(bad.isError, true);
      assert.equal(bad.value.error.code, 'PROOF_INVALID');
    });

    it('answers a held command PENDING_APPROVAL with its approval and what a human must do, and refuses the agent approving it itself', async () => {
      const held = await call(client, 'submit', { action: 'UpsertRoute', payload: { path: '/mcp-held', pageId: 'home' } });
      assert.equal(held.isError, false, held.text);
      assert.equal(held.value.status, 'PENDING_APPROVAL');
      const id = held.value.approval.id;
      assert.match(held.value.next.human, new RegExp(`writ approvals approve ${id}`));
      assert.match(held.text, /PENDING_APPROVAL/);
      const self = await call(client, 'submit', { action: 'writ.Approve', payload: { approvalId: id, commandHash: held.value.commandHash } });
      assert.equal(self.isError, true, self.text);
      assert.equal(self.value.error.code, 'SELF_APPROVAL');
      assert.equal(self.value.error.mcp, CODES.SELF_APPROVAL.mcp);
      assert.equal(self.value.error.hint, CODES.SELF_APPROVAL.hint);
      const listed = await call(client, 'list_approvals', { status: 'pending' });
      assert.ok(listed.value.items.some((a: any) => a.id === id));
      // Still pending, nothing applied.
      assert.equal((await m.h.get(`/v1/entities/${m.h.tenant}/route/${encodeURIComponent('/mcp-held')}`)).status, 404);
    });

    it('refuses commands with their registry codes, MCP numbers and hints, as tool errors', async () => {
      const forbidden = await call(client, 'submit', { action: 'AssignRole', payload: { actor: agent, role: 'publisher' } });
      assert.equal(forbidden.value.error.code, 'FORBIDDEN');
      assert.equal(forbidden.value.error.mcp, CODES.FORBIDDEN.mcp);
      assert.ok(forbidden.value.requestId, 'the refusal names the recorded command');
      const invalid = await call(client, 'submit', { action: 'UpsertProduct', payload: { sku: 'x' } });
      assert.equal(invalid.value.error.code, 'INVALID_PAYLOAD');
      assert.ok(Array.isArray(invalid.value.error.details.errors));
      await call(client, 'submit', { action: 'UpsertProduct', payload: product('mcp-v') });
      const conflict = await call(client, 'submit', { action: 'UpsertProduct', payload: product('mcp-v', 5), expectedVersion: 0 });
      assert.equal(conflict.value.error.code, 'VERSION_CONFLICT');
      assert.match(conflict.text, /^VERSION_CONFLICT: .*\nWhat to do: /s);
      const missing = await call(client, 'get_entity', { type: 'product', id: 'no-such' });
      assert.equal(missing.value.error.code, 'NOT_FOUND');
    });

    it('never runs a command twice: a second submit with the same requestId is refused, and get_command gives the first answer', async () => {
      const args = { action: 'UpsertProduct', payload: product('mcp-once'), requestId: `mcp-once-${transport}-0001` };
      const first = await call(client, 'submit', args);
      assert.equal(first.value.status, 'OK');
      const again = await call(client, 'submit', args);
      assert.equal(again.value.error.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal((await call(client, 'get_entity', { type: 'product', id: 'mcp-once' })).value.version, 1);
      assert.equal((await call(client, 'get_command', { requestId: args.requestId })).value.answer.commandHash, first.value.commandHash);
    });

    it('refuses bad tool arguments: a schema error, oversized arguments and an unknown tool', async () => {
      const schema = await call(client, 'get_entity', { type: 'product' });
      assert.equal(schema.isError, true);
      assert.equal(schema.value.error.code, 'INVALID_PAYLOAD');
      assert.match(schema.value.error.message, /must have required property 'id'/);
      const extra = await call(client, 'submit', { action: 'UpsertProduct', payload: product('p'), actor: 'admin' });
      assert.equal(extra.value.error.code, 'INVALID_PAYLOAD', 'an agent cannot name another actor');
      const unknownAction = await call(client, 'submit', { action: 'NoSuchAction', payload: {} });
      assert.equal(unknownAction.value.error.code, 'INVALID_PAYLOAD');
      const big = await call(client, 'submit', { action: 'UpsertProduct', payload: { ...product('big'), name: 'x'.repeat(m.h.writ.config.intake.maxBytes) } });
      assert.equal(big.value.error.code, 'PAYLOAD_TOO_LARGE');
      assert.equal(big.value.error.mcp, CODES.PAYLOAD_TOO_LARGE.mcp);
      await assert.rejects(client.callTool({ name: 'drop_tables', arguments: {} }), (e: McpError) => e.code === CODES.UNKNOWN_ACTION.mcp && (e.data as any).code === 'UNKNOWN_ACTION');
      assert.equal((await m.h.get(`/v1/entities/${m.h.tenant}/product/big`)).status, 404, 'nothing was applied');
    });

    it('reads no more than the HTTP API shows the same identity', async () => {
      // Keys of others, raw approvals (they hold commands) and envelopes are for admins and auditors.
      const key = await call(client, 'get_entity', { type: 'key', id: 'admin#1' });
      assert.equal(key.value.error.code, 'FORBIDDEN');
      const approvals = await call(client, 'list_entities', { type: 'approval' });
      assert.equal(approvals.value.error.code, 'FORBIDDEN');
      const other = await call(client, 'get_entity', { type: 'product', id: 'mcp-tea', tenant: 'other' });
      assert.equal(other.value.error.code, 'FORBIDDEN');
      const otherLedger = await call(client, 'ledger_tail', { tenant: 'other' });
      assert.equal(otherLedger.isError, true);
      // The admin's stored answer is not the agent's to read.
      const put = m.h.sign('UpsertProduct', product('admin-made'));
      await m.h.post(put);
      const stored = await call(client, 'get_command', { requestId: put.requestId });
      assert.equal(stored.value.error.code, 'FORBIDDEN');
      // Its own key is its own.
      assert.equal((await call(client, 'get_entity', { type: 'actor', id: agent })).isError, false);
    });
  });
}
