import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { BIN, runWrit } from './support/cli.js';
import { call, startMcpHome, stdioClient, type McpHome } from './support/mcp.js';

/** `writ mcp` as a process: its stdin framing bound, its refusals, and a server that is not running. */
describe('writ mcp over stdio', () => {
  let m: McpHome;
  let key: { keyFile: string; keyId: string };

  before(async () => {
    m = await startMcpHome();
    key = await m.agent('bot', ['editor']);
  });
  after(async () => {
    await m?.close();
  });

  it('needs the agent\'s own key: there is no default key', async () => {
    const run = await runWrit(['--home', m.h.home, 'mcp']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /--key/);
    assert.equal(run.stdout, '');
  });

  it('answers a line over the limit PAYLOAD_TOO_LARGE without holding it, and keeps serving', async () => {
    const child = spawn(process.execPath, [BIN, '--home', m.h.home, '--url', m.url, 'mcp', '--key', key.keyFile, '--key-id', key.keyId], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: any[] = [];
    let buffer = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buffer += c;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        lines.push(JSON.parse(buffer.slice(0, i)));
        buffer = buffer.slice(i + 1);
      }
    });
    const waitFor = async (pred: (l: any) => boolean) => {
      while (!lines.some(pred)) await new Promise((r) => setTimeout(r, 20));
      return lines.find(pred);
    };
    try {
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n');
      await waitFor((l) => l.id === 1);
      // 4 MiB in 64 KiB chunks: far over intake.maxBytes plus framing.
      const chunk = 'x'.repeat(64 * 1024);
      child.stdin.write(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"submit","arguments":{"pad":"`);
      for (let i = 0; i < 64; i++) child.stdin.write(chunk);
      child.stdin.write('"}}}\n');
      const refused = await waitFor((l) => l.error && l.id === null);
      assert.equal(refused.error.data.code, 'PAYLOAD_TOO_LARGE');
      assert.equal(refused.error.code, -32602);
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }) + '\n');
      const listed = await waitFor((l) => l.id === 3);
      assert.ok(listed.result.tools.length > 0, 'the session goes on');
    } finally {
      child.kill();
    }
  });

  it('tells the agent UNAVAILABLE, and what to start, when no server runs', async () => {
    const client = await stdioClient({ ...m, url: 'http://127.0.0.1:9' }, key);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'submit'), 'the tools are listed even so');
      const r = await call(client, 'submit', { action: 'UpsertProduct', payload: { sku: 'x', name: 'X', price: { amount: 1, currency: 'EUR' } } });
      assert.equal(r.value.error.code, 'UNAVAILABLE');
      assert.match(r.value.error.message, /writ serve/);
    } finally {
      await client.close();
    }
  });
});
