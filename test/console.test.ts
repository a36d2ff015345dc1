import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { buildConsole } from '../src/console/build.js';
import { consoleDir } from '../src/console/dir.js';
import { chromiumMissing, launchChromium, SCREENSHOTS } from './support/browser.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';

const skip = chromiumMissing() ?? false;

/**
 * The web console in real headless Chromium against a real writ over a socket: an editor's publish
 * is held; a publisher imports the key file into the page, sees the diff, approves with a command
 * signed in the browser; the ledger explorer shows the records; a receipt verifies in the page and
 * a tampered one does not; an approval made with the keyboard alone. Screenshots go to SCREENSHOTS.
 */
describe('the web console in a browser', { skip }, () => {
  let h: Harness;
  let base: string;
  let dir: string;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let page: Page;
  const errors: string[] = [];
  const editor = newSigner('erin#1');
  const publisher = newSigner('paul#1');

  const as = (signer: typeof editor, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, {}, signer));
  /** A page brought to `approved`, then the editor's publish, which policy holds for a publisher. */
  async function heldPublish(pageId: string, title: string): Promise<string> {
    for (const [s, action, payload] of [[editor, 'SaveDraftPage', { pageId, title, blocks: [{ type: 'text' }] }], [editor, 'SubmitForReview', { pageId }], [publisher, 'ApproveContent', { pageId }]] as const) {
      const r = await as(s, action, payload);
      assert.equal(r.status, 200, r.raw);
    }
    const held = await as(editor, 'PublishPageVersion', { pageId });
    assert.equal(held.status, 202, held.raw);
    return held.body.approval.id as string;
  }
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
  const pageStatus = async (id: string) => (await h.get(`/v1/entities/default/page/${id}`)).body.doc.status as string;

  before(async () => {
    if (!existsSync(join(consoleDir(), 'index.html'))) await buildConsole();
    dir = mkdtempSync(join(tmpdir(), 'writ-console-'));
    h = await startHarness({ ledger: { checkpointIntervalMs: 50 } } as never);
    for (const [s, role] of [[editor, 'editor'], [publisher, 'publisher']] as const) {
      const reg = await h.post(h.sign('writ.RegisterKey', { actor: s.keyId.split('#')[0], keyId: s.keyId, alg: 'ed25519', publicKey: s.publicPem }));
      assert.equal(reg.status, 200, reg.raw);
      assert.equal((await h.post(h.sign('AssignRole', { actor: s.keyId.split('#')[0], role }))).status, 200);
    }
    // The key file exactly as `writ keys new` writes it: PKCS#8 PEM.
    writeFileSync(join(dir, 'paul-1.key'), publisher.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    base = await h.listen();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the console with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${base}/console`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(await res.text(), /<script(?![^>]*\ssrc=)[^>]*>/, 'every script has a src');
  });

  it('shows an anonymous visitor nothing the API would not: the inbox is refused for want of an identity', async () => {
    await heldPublish('spring', 'Spring sale');
    await page.goto(`${base}/console#/approvals`);
    await page.locator('.note.bad').waitFor();
    assert.match(await page.locator('main').innerText(), /identity|UNAUTHENTICATED|sign/i);
    assert.equal(await page.locator('#inbox').count(), 0);
    await shot('anonymous');
  });

  it("lets a publisher import a key, see the held publish's diff and approve it; the command runs", async () => {
    await page.goto(`${base}/console#/key`);
    await page.setInputFiles('#key-file', join(dir, 'paul-1.key'));
    await page.fill('#key-id', 'paul#1');
    await page.fill('#key-tenant', 'default');
    await page.click('#key-import');
    await page.locator('main .note').waitFor();
    assert.match(await page.locator('main .note').innerText(), /^Imported paul#1/);
    await shot('key');
    // The key is stored non-extractable: the page itself cannot export it.
    const extractable = await page.evaluate(async () => {
      const db: IDBDatabase = await new Promise((res) => { const r = indexedDB.open('writ-console'); r.onsuccess = () => res(r.result); });
      const v: any = await new Promise((res) => { const r = db.transaction('keys').objectStore('keys').get('operator'); r.onsuccess = () => res(r.result); });
      return v.key.extractable;
    });
    assert.equal(extractable, false);
    await page.goto(`${base}/console#/approvals`);
    await page.locator('#inbox li').first().waitFor();
    assert.match(await page.locator('#inbox').innerText(), /PublishPageVersion[\s\S]*asked by erin[\s\S]*0\/1 approvals of publisher/);
    await shot('approvals');
    await page.locator('#inbox a').first().click();
    await page.locator('table.diff').first().waitFor();
    assert.match((await page.locator('table.diff').allInnerTexts()).join('\n'), /status\s+"approved"\s+"published"/);
    await shot('approval-diff');
    await page.click('#approve');
    await page.locator('#decision-status .note.ok').waitFor();
    assert.equal(await pageStatus('spring'), 'published');
    await page.locator('#approval-status', { hasText: 'executed' }).waitFor({ timeout: 10_000 });
  });

  it('updates the inbox live when a command is held elsewhere', async () => {
    await page.goto(`${base}/console#/approvals`);
    await page.locator('.count', { hasText: '0 pending' }).waitFor();
    await heldPublish('summer', 'Summer');
    await page.locator('.count', { hasText: '1 pending' }).waitFor({ timeout: 10_000 });
  });

  it('shows the ledger: every log, its records, and a record with its envelope and entity', async () => {
    await page.goto(`${base}/console#/ledger`);
    await page.locator('table.logs a', { hasText: '/default/content' }).click();
    await page.locator('#records').waitFor();
    const rows = await page.locator('#records').innerText();
    assert.match(rows, /PublishPageVersion\s+OK/);
    assert.match(rows, /PublishPageVersion\s+PENDING/);
    assert.match(rows, /writ\.Approve|ApproveContent/);
    await shot('ledger');
    await page.fill('#f-outcome', 'PENDING');
    await page.press('#f-outcome', 'Enter');
    await page.waitForFunction(() => !document.querySelector('#records')?.textContent?.includes('SaveDraftPage'));
    // The server filtered the whole log, and the page says how far it looked.
    assert.match(await page.locator('#scan-note').innerText(), /^\d+ matching records from #0; scanned up to #\d+ \(the end of the log\)/);
    await page.locator('#records a').first().click();
    await page.locator('h1', { hasText: 'PENDING' }).waitFor();
    assert.match(await page.locator('main').innerText(), /"action": "PublishPageVersion"/);
    await shot('record');
  });

  it('verifies a receipt in the page with the pinned key, and refuses a tampered one', async () => {
    await page.goto(`${base}/console#/verify`);
    await page.click('#vkey-server');
    await page.locator('.note.ok', { hasText: 'pinned' }).waitFor();
    await page.goto(`${base}/console#/log/default/content`);
    await page.locator('#records a').first().click();
    await page.click('#receipt-fetch');
    await page.locator('#receipt-result .note.ok').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#receipt-result').innerText(), /Verified: record \d+/);
    await shot('receipt-ok');
    const text = await page.inputValue('#receipt');
    // Another outcome in the proven leaf: the bytes no longer hash to the signed tree.
    const tampered = text.replace(/^(.*)$/m, (first) => first).replace(/("outcome":")(OK|PENDING)/, (_m, a, b) => `${a}${b === 'OK' ? 'REJECTED' : 'OK'}`);
    const leafLine = text.split('\n').findIndex((l) => /^extra /.test(l));
    const edited = tampered === text && leafLine >= 0 ? text.replace(/(extra [A-Za-z0-9+/]{10})([A-Za-z0-9+/])/, (_m, a, c) => `${a}${c === 'A' ? 'B' : 'A'}`) : tampered;
    assert.notEqual(edited, text, 'the receipt was edited');
    await page.fill('#receipt', edited);
    await page.click('#receipt-verify');
    await page.locator('#receipt-result .note.bad').waitFor();
    assert.match(await page.locator('#receipt-result').innerText(), /NOT VERIFIED/);
    await shot('receipt-tampered');
  });

  it('verifies a dropped .tlog-proof file with no server at all', async () => {
    const receipt = await (await fetch(`${base}/v1/logs/default/content/receipts/0`)).text();
    writeFileSync(join(dir, 'r.tlog-proof'), receipt);
    await page.goto(`${base}/console#/verify`);
    await page.locator('#proof-file').waitFor();
    await page.route('**/*', (route) => route.abort());
    await page.setInputFiles('#proof-file', join(dir, 'r.tlog-proof'));
    await page.locator('#proof-result .note.ok').waitFor();
    await page.unroute('**/*');
    await shot('verify');
  });

  it('says loudly when a log is smaller than the browser saw last time (rollback)', async () => {
    await page.goto(`${base}/console#/verify`);
    await page.reload();
    await page.locator('#consistency .note', { hasText: '/default/content' }).waitFor({ timeout: 10_000 });
    await page.evaluate(() => {
      for (const k of Object.keys(localStorage)) if (k.startsWith('writ.seen.') && k.endsWith('/content')) localStorage.setItem(k, JSON.stringify({ ...JSON.parse(localStorage.getItem(k)!), size: 1_000_000 }));
    });
    await page.click('#check-logs');
    await page.locator('#consistency .note.bad', { hasText: 'ROLLBACK' }).waitFor({ timeout: 5000 }).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${await page.locator('#consistency').innerText()} ${JSON.stringify(await page.evaluate(() => Object.keys(localStorage)))}`);
    });
  });

  it('approves with the keyboard alone', async () => {
    await page.goto(`${base}/console#/approvals`);
    await page.locator('#inbox a').first().waitFor();
    const focusOn = async (selector: string) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
      }
      assert.fail(`Tab never reached ${selector}`);
    };
    await focusOn('#inbox a');
    await page.keyboard.press('Enter');
    await page.locator('#approve').waitFor();
    await focusOn('#approve');
    await page.keyboard.press('Enter');
    await page.locator('#decision-status .note.ok').waitFor();
    assert.equal(await pageStatus('summer'), 'published');
  });

  it('is readable at 360 px wide (no sideways scrolling)', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    for (const route of ['approvals', 'ledger', 'verify', 'ops', 'key']) {
      await page.goto(`${base}/console#/${route}`);
      await page.locator('main h1').first().waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), `${route} fits 360 px`);
      if (route === 'approvals' || route === 'ops') await shot(`${route}-360`);
    }
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(`${base}/console#/ops`);
    await page.locator('main h1').waitFor();
    await shot('ops');
    assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/.test(e)), [], 'no CSP violations');
  });
});
