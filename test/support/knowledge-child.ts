import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/config.js';
import { loadPrivateKey } from '../../src/core/signature.js';
import { ADMIN_KEY_ID, adminKeyFile } from '../../src/home/init.js';
import { signEnvelope } from '../../src/sdk/sign.js';
import { buildServer } from '../../src/transports/http/server.js';
import { openWrit } from '../../src/writ.js';

/**
 * A writ process for the knowledge crash test: opens the home given as argv[2], submits one
 * KipCommit as the admin (content from argv[3]) and closes. WRIT_TEST_KNOWLEDGE_KILL makes it
 * SIGKILL itself at that step (src/packs/knowledge/kill-points.ts). Prints the answer.
 */
const [home, title] = process.argv.slice(2);
const config = loadConfig(home);
const writ = await openWrit(config, { command: 'knowledge crash child' });
const app = buildServer(writ);
const admin = { key: loadPrivateKey(readFileSync(adminKeyFile(home, config.admin), 'utf8')), keyId: ADMIN_KEY_ID };
const content = `---\ntype: note\ntitle: ${title}\n---\n# ${title}\n`;
const { envelope } = signEnvelope({ action: 'KipCommit', payload: { perspective: config.admin, message: title, writes: [{ path: `notes/${title}.md`, content }] } }, admin, { tenant: config.tenant });
const res = await app.inject({ method: 'POST', url: '/v1/commands', payload: JSON.stringify(envelope), headers: { 'content-type': 'application/json' } });
process.stdout.write(res.body + '\n');
await app.close();
await writ.close();
