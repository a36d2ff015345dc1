import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import type { ConfigInput } from '../../src/config/config.js';
import type { Signer } from '../../src/sdk/sign.js';
import type { OpenOptions } from '../../src/writ.js';
import { BIN } from './cli.js';
import { newSigner, startHarness, type Harness } from './harness.js';

/** A harness whose server listens, with bearer JWTs configured (HS256, the secret in the home). */
export interface McpHome {
  readonly h: Harness;
  readonly url: string;
  /** A bearer JWT for `actor` of `tenant` (the home tenant by default), valid for an hour. */
  token(actor: string, tenant?: string): Promise<string>;
  /** Registers an agent with an Ed25519 key and `roles`; its private key is written to a file for `writ mcp --key`. */
  agent(name: string, roles?: readonly string[]): Promise<Signer & { keyFile: string }>;
  close(): Promise<void>;
}

/** `setup(home)` runs before the server listens (with a restart), e.g. to provision the airlock's TOTP secret. */
export async function startMcpHome(overrides: ConfigInput = {}, policy?: string, options: OpenOptions = {}, setup?: (home: string) => void): Promise<McpHome> {
  const secret = randomBytes(32);
  const dir = join(process.env.TMPDIR ?? '/tmp', `writ-mcp-jwt-${randomUUID()}`);
  writeFileSync(dir, secret, { mode: 0o600 });
  let h = await startHarness({ ...overrides, auth: { ...(overrides.auth ?? {}), require: 'either', jwt: { hs256SecretFile: dir } } } as ConfigInput, options);
  if (policy) writeFileSync(join(h.home, 'policies', 'mcp-test.cedar'), policy);
  setup?.(h.home);
  if (policy || setup) await h.restart(options);
  const url = await h.listen();
  return {
    h,
    url,
    token: (actor, tenant = h.tenant) =>
      new SignJWT({ tenant }).setProtectedHeader({ alg: 'HS256' }).setSubject(actor).setIssuedAt().setExpirationTime('1h').sign(secret),
    async agent(name, roles = []) {
      // The harness's signers carry their private key (newSigner); `writ mcp --key` reads it from a file.
      const signer = (await h.actor(name, roles)) as ReturnType<typeof newSigner>;
      const keyFile = join(h.home, `${name}.key`);
      writeFileSync(keyFile, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
      return { key: signer.key, keyId: signer.keyId, keyFile };
    },
    close: () => h.close(),
  };
}

/** An SDK Client on `writ mcp` spawned over stdio, as a desktop agent launches it. */
export async function stdioClient(m: McpHome, agent: { keyFile: string; keyId: string }, extra: readonly string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, '--home', m.h.home, '--url', m.url, 'mcp', '--key', agent.keyFile, '--key-id', agent.keyId, ...extra],
    stderr: 'pipe',
  });
  const client = new Client({ name: 'writ-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** An SDK Client on the server's /mcp endpoint with a bearer JWT. */
export async function httpClient(m: McpHome, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', m.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'writ-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** A tool call's structured result (or its error object), whichever it is. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; value: any; text: string }> {
  const r = (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: unknown; content?: Array<{ type: string; text?: string }> };
  return { isError: r.isError === true, value: r.structuredContent, text: (r.content ?? []).map((c) => c.text ?? '').join('\n') };
}
