import { parseVerifierKey } from '../../core/tlog/index.js';
import { verifyReceipt } from '../../sdk/receipt-check.js';
import type { Api } from './api.js';
import { fill, h, note, errorText } from './dom.js';
import { checkLog, pinKey, pinnedKey, type Consistency } from './trust.js';

/**
 * Receipts verified in this page with writ's own src/core/tlog code (bundled): the checkpoint's
 * signature against the pinned verifier key, the inclusion proof, and the leaf being the record.
 */
async function verifyText(text: string, out: HTMLElement): Promise<boolean> {
  const vkey = pinnedKey();
  if (!vkey) return fill(out, note('bad', 'No verifier key pinned: pin one on the Verify page first.')), false;
  try {
    const v = await verifyReceipt(text, parseVerifierKey(vkey));
    fill(out, note('ok', `Verified: record ${v.index} (${String(v.record.action)} ${String(v.record.outcome)}) is in ${v.log} at tree size ${v.treeSize}.`));
    return true;
  } catch (err) {
    fill(out, note('bad', `NOT VERIFIED: ${errorText(err)}`));
    return false;
  }
}

/** A record's receipt: fetched (public, by log and index), editable, verified here. */
export function receiptBox(api: Api, tenant: string, scroll: string, index: number): HTMLElement {
  const text = h('textarea', { id: 'receipt', rows: 8, spellcheck: 'false', 'aria-label': 'Receipt (tlog-proof)' });
  const out = h('div', { id: 'receipt-result', 'aria-live': 'polite' });
  const fetchIt = async () => {
    const a = await api.request('GET', `/v1/logs/${encodeURIComponent(tenant)}/${encodeURIComponent(scroll)}/receipts/${index}?wait=true`);
    if (a.status !== 200) return fill(out, note('bad', a.body?.message ?? `HTTP ${a.status}`));
    text.value = a.text;
    await verifyText(a.text, out);
  };
  return h('section', { class: 'card' },
    h('h2', {}, 'Receipt'),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'receipt-fetch', onclick: () => void fetchIt() }, 'Fetch and verify'),
      h('button', { type: 'button', id: 'receipt-verify', onclick: () => void verifyText(text.value, out) }, 'Verify the text below'),
    ),
    text, out);
}

function consistencyNote(log: string, c: Consistency): HTMLElement {
  switch (c.kind) {
    case 'first': return note('info', `${log}: first visit, checkpoint at size ${c.size} remembered.`);
    case 'same': return note('ok', `${log}: unchanged at size ${c.size}.`);
    case 'grew': return note('ok', `${log}: grew ${c.from} → ${c.size}, consistency proof verified.`);
    case 'rollback': return note('bad', `ROLLBACK: ${log} was at size ${c.from}, now claims ${c.size}. The server is showing you an older log.`);
    case 'split': return note('bad', `SPLIT VIEW: ${log} at size ${c.size} is not an extension of what this browser saw before (${c.why}).`);
  }
}

/** Pin a verifier key; verify a dropped .tlog-proof offline; check each log against last time. */
export async function verifyPage(root: HTMLElement, api: Api): Promise<void> {
  const vkey = h('input', { type: 'text', id: 'vkey', value: pinnedKey() ?? '', spellcheck: 'false', autocomplete: 'off' });
  const pinOut = h('div', { 'aria-live': 'polite' });
  const pin = (value: string) => {
    try {
      pinKey(value);
      vkey.value = value;
      fill(pinOut, note('ok', 'Verifier key pinned in this browser.'));
    } catch (err) {
      fill(pinOut, note('bad', `Not a verifier key: ${errorText(err)}`));
    }
  };
  const fromServer = async () => pin((await api.get('/v1/logs')).verifierKey);
  const drop = h('input', { type: 'file', id: 'proof-file', accept: '.tlog-proof,.txt' });
  const dropOut = h('div', { id: 'proof-result', 'aria-live': 'polite' });
  drop.addEventListener('change', () => void drop.files?.[0]?.text().then((t) => verifyText(t, dropOut)));
  const zone = h('div', { class: 'drop', tabindex: 0 }, 'Drop a .tlog-proof file here, or choose one: ', drop);
  zone.addEventListener('dragover', (e) => e.preventDefault());
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    void e.dataTransfer?.files[0]?.text().then((t) => verifyText(t, dropOut));
  });
  const consOut = h('div', { id: 'consistency', 'aria-live': 'polite' });
  const checkAll = async () => {
    const logs = (await api.get('/v1/logs')).logs as any[];
    const notes: HTMLElement[] = [];
    for (const l of logs.filter((l) => l.checkpointSize > 0)) notes.push(await checkLog(api, l.tenant, l.scroll).then((c) => consistencyNote(l.origin, c), (err) => note('bad', `${l.origin}: ${errorText(err)}`)));
    fill(consOut, ...notes);
  };
  fill(
    root,
    h('h1', {}, 'Verify'),
    h('section', { class: 'card' }, h('h2', {}, 'Log verifier key'),
      h('label', { for: 'vkey' }, 'Paste the key you trust (from your operator, out of band), or take the server\'s once'), vkey,
      h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'vkey-pin', onclick: () => pin(vkey.value) }, 'Pin this key'), h('button', { type: 'button', id: 'vkey-server', onclick: () => void fromServer() }, 'Pin the server\'s key')), pinOut),
    h('section', { class: 'card' }, h('h2', {}, 'Offline proof'), h('p', {}, 'Checked in this page only; nothing is sent.'), zone, dropOut),
    h('section', { class: 'card' }, h('h2', {}, 'Since last visit'), h('button', { type: 'button', id: 'check-logs', onclick: () => void checkAll() }, 'Check every log'), consOut),
  );
  if (pinnedKey()) await checkAll();
}
