import type { Api } from './api.js';
import { fill, h, note, errorText } from './dom.js';
import { forgetSigner, importSigner } from './keystore.js';

/** Import the operator's key file (`writ keys new`), or forget it. */
export async function keyPage(root: HTMLElement, api: Api): Promise<void> {
  const status = h('div', { 'aria-live': 'polite' });
  const file = h('input', { type: 'file', id: 'key-file', accept: '.key,.pem' });
  const keyId = h('input', { type: 'text', id: 'key-id', placeholder: 'paul#1', required: true, autocomplete: 'off', value: api.signer?.keyId ?? '' });
  const tenant = h('input', { type: 'text', id: 'key-tenant', value: api.tenant, required: true, autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'card', onsubmit: (e: Event) => void submit(e) },
    h('label', { for: 'key-file' }, 'Private key file (.key, written by writ keys new)'),
    file,
    h('label', { for: 'key-id' }, 'Key id'),
    keyId,
    h('label', { for: 'key-tenant' }, 'Tenant'),
    tenant,
    h('button', { type: 'submit', id: 'key-import' }, 'Import key'),
  );
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    try {
      const f = file.files?.[0];
      if (!f) throw new Error('choose the key file first');
      const signer = await importSigner(await f.text(), keyId.value.trim(), tenant.value.trim());
      localStorage.setItem('writ.tenant', signer.tenant);
      fill(status, note('ok', `Imported ${signer.keyId} (${signer.alg}); it stays in this browser, non-extractable.`));
      window.dispatchEvent(new Event('writ-key'));
    } catch (err) {
      fill(status, note('bad', `Could not import the key: ${errorText(err)}`));
    }
  }
  const forget = h('button', { type: 'button', id: 'key-forget', onclick: () => void forgetSigner().then(() => window.dispatchEvent(new HashChangeEvent('hashchange'))) }, 'Forget this key');
  fill(
    root,
    h('h1', {}, 'Your key'),
    h('p', {}, 'Decisions are commands signed here with your own key (WebCrypto); reads are signed read tokens. The key never leaves this browser: it is stored non-extractable in IndexedDB.'),
    api.signer ? h('p', {}, `Current key: ${api.signer.keyId} in tenant ${api.signer.tenant}. `, forget) : null,
    form,
    status,
  );
}
