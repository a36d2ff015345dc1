import type { Api } from './api.js';
import { fill, h, note, errorText } from './dom.js';

/**
 * The decisions on a held command, each a command signed in this browser (writ.Approve,
 * writ.Reject, writ.BreakGlass bound to its commandHash; the airlock's writ.Stage, writ.Land and
 * writ.Revert with a TOTP code). The server sees an ordinary signed envelope and decides.
 */
export function actionsOf(api: Api, a: any): HTMLElement {
  const status = h('div', { 'aria-live': 'polite', id: 'decision-status' });
  const reason = h('input', { type: 'text', id: 'reason', maxlength: 1024, autocomplete: 'off' });
  const bound = { approvalId: a.id, commandHash: a.commandHash };
  async function send(action: string, payload: Record<string, unknown>): Promise<void> {
    fill(status, note('info', `Signing ${action}…`));
    try {
      const ans = await api.submit(action, payload);
      const b = ans.body ?? {};
      if (ans.status >= 300) fill(status, note('bad', `${action} refused: ${b.code ?? ans.status} ${b.message ?? ''}`));
      else fill(status, note('ok', `${action}: ${b.status ?? 'OK'}${b.result?.status ? ` (approval ${b.result.status})` : ''}`));
    } catch (err) {
      fill(status, note('bad', errorText(err)));
    }
  }
  const needReason = (action: string) => () => {
    if (!reason.value.trim()) return fill(status, note('bad', `${action} needs a reason: write it in the Reason field.`));
    void send(action, { ...bound, reason: reason.value.trim() });
  };
  const box = h(
    'section',
    { class: 'card decisions', 'aria-label': 'Decide' },
    h('h2', {}, 'Decide'),
    a.status === 'pending' ? h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'approve', class: 'primary', onclick: () => void send('writ.Approve', bound) }, 'Approve'),
      h('button', { type: 'button', id: 'reject', onclick: needReason('writ.Reject') }, 'Reject'),
      h('button', { type: 'button', id: 'break-glass', class: 'danger', onclick: needReason('writ.BreakGlass') }, 'Break glass'),
    ) : null,
    a.status === 'pending' ? h('label', { for: 'reason' }, 'Reason (for reject and break-glass)') : null,
    a.status === 'pending' ? reason : null,
    a.requirement?.airlock ? airlock(a, send) : null,
    status,
  );
  return box;
}

function airlock(a: any, send: (action: string, payload: Record<string, unknown>) => Promise<void>): HTMLElement {
  const code = h('input', { type: 'text', id: 'totp', inputmode: 'numeric', pattern: '[0-9 ]{6,8}', maxlength: 8, autocomplete: 'one-time-code' });
  const state = a.airlock?.status ?? 'open';
  return h(
    'fieldset',
    { class: 'airlock' },
    h('legend', {}, `TOTP airlock: ${state}`),
    h('label', { for: 'totp' }, 'Code from your authenticator'),
    code,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'stage', onclick: () => void send('writ.Stage', { approvalId: a.id, code: code.value }) }, 'Stage'),
      h('button', { type: 'button', id: 'land', onclick: () => void send('writ.Land', { hashPrefix: a.commandHash.slice(0, 16), code: code.value }) }, 'Land'),
      h('button', { type: 'button', id: 'revert', onclick: () => void send('writ.Revert', { approvalId: a.id }) }, 'Revert'),
    ),
  );
}
