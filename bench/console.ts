import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { browserHash, buildConsole } from '../src/console/build.js';
import { parseVerifierKey } from '../src/core/tlog/index.js';
import { verifyReceipt as verifyPortable } from '../src/sdk/receipt-check.js';
import { verifyReceipt as verifyNode } from '../src/sdk/receipt.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { buildServer } from '../src/transports/http/server.js';
import { packageRoot } from '../src/util/package-root.js';
import { chromiumMissing, launchChromium } from '../test/support/browser.js';
import { newSigner } from '../test/support/harness.js';
import { BENCH_CONFIG, benchHome, emit, round, runConcurrent } from './support.js';

/**
 * The console in headless Chromium against a real server: time to first render of the approvals
 * inbox holding 1,000 pending commands and of the latest page of a `records`-record log (median
 * of 3 loads each), and receipt verifications per second in the page against the very same code
 * (src/sdk/receipt-check.ts, portable SHA-256) under Node in this run, and Node's own (node:crypto).
 * `node dist/bench/console.js [records]`
 */
export async function benchConsole(records: number, pending = 1000): Promise<void> {
  if (chromiumMissing()) return emit({ bench: 'console', skipped: 'no chromium' });
  await buildConsole();
  const home = await benchHome(BENCH_CONFIG);
  writeFileSync(join(home.home, 'policies', 'hold.cedar'), '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
  const writ = await home.open();
  const app = buildServer(writ);
  const browser = await launchChromium();
  try {
    const submit = (envelope: unknown) => writ.pipeline.submit({ body: Buffer.from(JSON.stringify(envelope)), receivedAt: Date.now() });
    const mo = newSigner('mo#1');
    await submit(signEnvelope({ action: 'writ.RegisterKey', payload: { actor: 'mo', keyId: mo.keyId, alg: 'ed25519', publicKey: mo.publicPem } }, home.admin, { tenant: home.tenant }).envelope);
    await submit(signEnvelope({ action: 'AssignRole', payload: { actor: 'mo', role: 'merch' } }, home.admin, { tenant: home.tenant }).envelope);
    const product = (i: number, tag: string) => ({ action: 'UpsertProduct', payload: { sku: `${tag}-${i}`, name: `Product ${i}`, price: { amount: 100 + i, currency: 'EUR' } } });
    const fill = await runConcurrent([...Array(records).keys()], 64, async (i) => void (await submit(signEnvelope(product(i, 'p'), home.admin, { tenant: home.tenant }).envelope)));
    await runConcurrent([...Array(pending).keys()], 64, async (i) => void (await submit(signEnvelope(product(i, 'held'), mo, { tenant: home.tenant }).envelope)));
    await writ.integrator.checkpointNow(home.tenant, 'commerce');
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const keyFile = join(home.home, 'bench-admin.key');
    writeFileSync(keyFile, (home.admin.key as { key: { export(o: object): string } }).key.export({ type: 'pkcs8', format: 'pem' }));
    const page = await browser.context.newPage();
    await page.goto(`${base}/console#/key`);
    await page.setInputFiles('#key-file', keyFile);
    await page.fill('#key-id', home.admin.keyId);
    await page.fill('#key-tenant', home.tenant);
    await page.click('#key-import');
    await page.locator('main .note.ok').waitFor();
    const firstRender = async (hash: string, selector: string) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        await page.goto('about:blank');
        const t = performance.now();
        await page.goto(`${base}/console#/${hash}`);
        await page.locator(selector).waitFor({ timeout: 120_000 });
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[1];
    };
    const inboxMs = await firstRender('approvals', `#inbox li:nth-child(${pending})`);
    const logMs = await firstRender(`log/${home.tenant}/commerce`, '#records tbody tr:nth-child(100)');
    const receipt = await (await fetch(`${base}/v1/logs/${home.tenant}/commerce/receipts/${records - 1}?wait=true`)).text();
    const vkey = writ.signer.vkey;
    const n = 300;
    const browserRate = await verifyInPage(page, base, receipt, vkey, n);
    const rate = async (verify: typeof verifyPortable) => {
      const key = parseVerifierKey(vkey);
      await verify(receipt, key);
      const t = performance.now();
      for (let i = 0; i < n; i++) await verify(receipt, key);
      return n / ((performance.now() - t) / 1000);
    };
    const nodePortable = await rate(verifyPortable);
    const nodeNative = await rate(verifyNode);
    emit({
      bench: 'console',
      pending,
      log_records: records,
      fill_commands_per_s: Math.round(records / fill.seconds),
      inbox_first_render_ms: round(inboxMs),
      log_page_first_render_ms: round(logMs),
      browser_receipt_verifications_per_s: Math.round(browserRate),
      node_same_code_verifications_per_s: Math.round(nodePortable),
      node_native_hash_verifications_per_s: Math.round(nodeNative),
      browser_to_node_ratio: round(browserRate / nodePortable),
    });
  } finally {
    await browser.close();
    await app.close();
    await writ.close();
    home.dispose();
  }
}

/** Receipt verifications per second in the page, with the bundled src/sdk/receipt-check.ts. */
async function verifyInPage(page: import('playwright-core').Page, base: string, receipt: string, vkey: string, n: number): Promise<number> {
  const root = packageRoot();
  const entry = `import { verifyReceipt } from './src/sdk/receipt-check.ts'; import { parseVerifierKey } from './src/core/tlog/index.ts';
globalThis.benchVerify = async (text, vkey, n) => { const k = parseVerifierKey(vkey); await verifyReceipt(text, k); const t = performance.now(); for (let i = 0; i < n; i++) await verifyReceipt(text, k); return n / ((performance.now() - t) / 1000); };`;
  const out = await build({ stdin: { contents: entry, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'browser', format: 'esm', write: false, minify: true, plugins: [browserHash] });
  // Served on the writ server's origin (a secure context for WebCrypto) by the browser's router.
  await page.route(`${base}/bench/*`, (route) =>
    route.request().url().endsWith('.js')
      ? route.fulfill({ contentType: 'text/javascript', body: out.outputFiles[0].text })
      : route.fulfill({ contentType: 'text/html', body: '<!doctype html><script type="module" src="/bench/verify.js"></script>' }),
  );
  await page.goto(`${base}/bench/verify.html`);
  await page.waitForFunction(() => typeof (globalThis as { benchVerify?: unknown }).benchVerify === 'function');
  return page.evaluate(([t, k, c]) => (globalThis as unknown as { benchVerify: (a: string, b: string, n: number) => Promise<number> }).benchVerify(t, k, c), [receipt, vkey, n] as const);
}

if (process.argv[1]?.endsWith('console.js')) await benchConsole(Number(process.argv[2] ?? 100_000));
