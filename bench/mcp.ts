import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { signEnvelope } from '../src/sdk/sign.js';
import { buildServer } from '../src/transports/http/server.js';
import { packageRoot } from '../src/util/package-root.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent } from './support.js';

/**
 * MCP tool calls per second (docs/mcp.md): `submit` of UpsertProduct through the SDK's Client, over
 * stdio (a spawned `writ mcp`, which signs each command with the agent's key and posts it to the
 * server) against the same commands over the server's /mcp endpoint (a bearer JWT, in process):
 * the ratio is stdio's rate over HTTP's, both measured in this run on one server.
 */
export async function benchMcp(count: number, concurrency = 8): Promise<void> {
  const bench = await benchHome(BENCH_CONFIG);
  const secretFile = join(bench.home, 'jwt.secret');
  const secret = randomBytes(32);
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const writ = await bench.open({ auth: { require: 'either', jwt: { hs256SecretFile: secretFile } } } as never);
  const app = buildServer(writ);
  const clients: Client[] = [];
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    // The agent: its own Ed25519 key and the editor role, by the admin's signed commands.
    const pair = generateKeyPairSync('ed25519');
    const keyFile = join(bench.home, 'agent.key');
    writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    for (const [action, payload] of [
      ['writ.RegisterKey', { actor: 'agent', keyId: 'agent#1', alg: 'ed25519', publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
      ['AssignRole', { actor: 'agent', role: 'editor' }],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/v1/commands', payload: JSON.stringify(signEnvelope({ action, payload }, bench.admin, { tenant: bench.tenant }).envelope), headers: { 'content-type': 'application/json' } });
      if (res.statusCode !== 200) throw new Error(`${action}: ${res.body}`);
    }
    const token = await new SignJWT({ tenant: bench.tenant }).setProtectedHeader({ alg: 'HS256' }).setSubject('agent').setExpirationTime('1h').sign(secret);
    const transports = {
      http: () => new StreamableHTTPClientTransport(new URL('/mcp', url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      stdio: () => new StdioClientTransport({ command: process.execPath, args: [join(packageRoot(), 'bin', 'writ'), '--url', url, 'mcp', '--key', keyFile, '--key-id', 'agent#1', '--tenant', bench.tenant], stderr: 'inherit' }),
    };
    const rates: Record<string, number> = {};
    // HTTP first: it is the baseline the stdio figure is set beside.
    for (const name of ['http', 'stdio'] as const) {
      const client = new Client({ name: 'writ-bench', version: '1' });
      clients.push(client);
      await client.connect(transports[name]());
      await client.listTools();
      let failed = 0;
      const items = Array.from({ length: count }, (_, i) => i);
      const { seconds, latencies } = await runConcurrent(items, concurrency, async (i) => {
        const r = await client.callTool({ name: 'submit', arguments: { action: 'UpsertProduct', payload: { sku: `${name}-${i}`, name: `P ${i}`, price: { amount: 100 + i, currency: 'EUR' } } } });
        if (r.isError) failed++;
      });
      rates[name] = count / seconds;
      emit({ bench: 'mcp', transport: name, calls: count, concurrency, failed, calls_per_s: Math.round(rates[name]), p50_ms: round(percentile(latencies, 50), 3), p99_ms: round(percentile(latencies, 99), 3) });
    }
    emit({ bench: 'mcp', stdio_calls_per_s: Math.round(rates.stdio), http_calls_per_s: Math.round(rates.http), ratio_stdio_to_http: round(rates.stdio / rates.http, 3), baseline: 'the same submit calls over HTTP /mcp, this run' });
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await app.close();
    await writ.close();
    bench.dispose();
  }
}

if (process.argv[1]?.endsWith('/bench/mcp.js')) await benchMcp(Number(process.argv[2] ?? 2000));
