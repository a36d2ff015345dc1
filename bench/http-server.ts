import { loadConfig } from '../src/config/config.js';
import { buildServer } from '../src/transports/http/server.js';
import { openWrit } from '../src/writ.js';

/** The server side of the HTTP benchmark: serves a prepared home on a free loopback port. */
const home = process.argv[2];
const writ = await openWrit(loadConfig(home));
const app = buildServer(writ);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ url, durability: writ.store.durability }) + '\n');
process.on('SIGTERM', () => {
  void app.close().then(() => writ.close()).then(() => process.exit(0));
});
