import { Api } from './api.js';
import { fill, h, note, errorText } from './dom.js';
import { loadSigner } from './keystore.js';
import { approvalPage, approvalsPage } from './approvals.js';
import { keyPage } from './key-page.js';
import { entityPage, ledgerPage, logPage, recordPage } from './ledger.js';
import { opsPage } from './ops.js';
import { verifyPage } from './verify-page.js';

/**
 * The console's shell: a hash router (#/approvals, #/ledger, …) over pages that each render into
 * <main>. A page returns an optional stop function (its polling), called when the route changes.
 */
export type Page = (root: HTMLElement, api: Api, args: string[], query: URLSearchParams) => Promise<(() => void) | void>;

const ROUTES: Record<string, Page> = {
  approvals: approvalsPage,
  approval: approvalPage,
  ledger: ledgerPage,
  log: logPage,
  record: recordPage,
  entity: entityPage,
  verify: verifyPage,
  ops: opsPage,
  key: keyPage,
};

let stop: (() => void) | void;

async function route(): Promise<void> {
  const main = document.getElementById('main')!;
  const who = document.getElementById('who')!;
  if (stop) stop();
  stop = undefined;
  const [path, qs] = (location.hash.replace(/^#\/?/, '') || 'approvals').split('?');
  const [name, ...args] = path.split('/').map(decodeURIComponent);
  const signer = await loadSigner().catch(() => null);
  const api = new Api(signer);
  fill(who, signer ? `${signer.keyId} · ${signer.tenant}` : 'no key imported (anonymous)');
  for (const a of document.querySelectorAll('nav a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${name}`);
  const page = ROUTES[name];
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  if (!page) return fill(main, note('bad', `No page ${JSON.stringify(name)}.`));
  try {
    stop = await page(main, api, args, new URLSearchParams(qs ?? ''));
  } catch (err) {
    fill(main, note('bad', errorText(err)));
  }
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => void route());
// A key imported or forgotten: the header says who is signing now.
window.addEventListener('writ-key', () => void loadSigner().then((s) => fill(document.getElementById('who')!, s ? `${s.keyId} · ${s.tenant}` : 'no key imported (anonymous)')));
void route();
