import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_MAX_BODY_BYTES } from '../../config/config.js';
import { WritClient } from '../../sdk/client.js';
import { actorOfKeyId } from '../../sdk/sign.js';
import { clientApi } from '../mcp/client-api.js';
import { CliError, configOf, globals, signerOf } from './context.js';

/**
 * `writ mcp`: an MCP server on stdio for an AI agent, launched by its MCP client. Every tool acts
 * through the running server (`writ serve`, or --url) as the agent's own key: commands signed with
 * it, reads signed with it. It never opens the home's database (the server holds the writer lock),
 * and it has no default key: an agent never signs with a human's key.
 */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description("serve MCP (Model Context Protocol) on stdio for an AI agent: its tools submit commands signed with the agent's key and read through the running server (docs/mcp.md)")
    .requiredOption('--key <file>', "the agent's PKCS#8 PEM private key (its own, registered with `writ keys`; never a human's)")
    .requiredOption('--key-id <id>', 'the key id it was registered under')
    .option('--tenant <tenant>', 'the tenant the key is registered in (default: the home\'s)')
    .option('--actor <actor>', 'the key\'s actor, when the key id is not <actor>#<n>')
    .action(async (opts: { key: string; keyId: string; tenant?: string; actor?: string }, cmd: Command) => {
      const g = globals(cmd);
      const home = existsSync(join(resolve(g.home), 'config.json')) ? configOf(g) : undefined;
      const url = g.url ?? (home ? `http://${home.server.host}:${home.server.port}` : undefined);
      if (!url) throw new CliError('writ mcp talks to a running writ server: give --url, or --home of a writ home', 2);
      const tenant = opts.tenant ?? home?.tenant;
      if (!tenant) throw new CliError('--tenant is needed outside a writ home (the tenant your key is registered in)', 2);
      const actor = opts.actor ?? actorOfKeyId(opts.keyId);
      if (!actor) throw new CliError(`key id ${JSON.stringify(opts.keyId)} does not name its actor (<actor>#<n>); add --actor`, 2);
      const signer = signerOf(opts, g);
      const client = new WritClient(url, { ...signer, tenant, actor });
      // Loaded here, so that no other command loads the MCP SDK.
      const { serveStdio } = await import('../mcp/stdio.js');
      await serveStdio(clientApi(client, signer, { tenant, actor }), { maxArgumentBytes: home?.intake.maxBytes ?? DEFAULT_MAX_BODY_BYTES });
    });
}
