import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/config.js';
import { buildServer } from '../src/transports/http/server.js';
import { openWrit } from '../src/writ.js';
import { ThreadLabels, threadCpu } from './thread-cpu.js';

/**
 * The server side of the HTTP benchmark: serves a prepared home on a free loopback port. A line
 * `cpu` on stdin is answered with the CPU seconds each kind of thread has used so far.
 */
const home = process.argv[2];
const config = loadConfig(home);
const before = new Set(threadCpu().keys());
const writ = await openWrit(config);
const labels = new ThreadLabels(before, threadCpu().keys(), config.verify.workers);
const app = buildServer(writ);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const start = new Map<number, number>();
process.stdout.write(JSON.stringify({ url, durability: writ.store.durability }) + '\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'cpu') process.stdout.write(JSON.stringify(labels.split(start, threadCpu())) + '\n');
});
process.on('SIGTERM', () => {
  void app.close().then(() => writ.close()).then(() => process.exit(0));
});
