import type { Api } from './api.js';
import { actionsOf } from './decisions.js';
import { diffTable } from './diff.js';
import { fill, h, json, link, note } from './dom.js';
import { poll } from './poll.js';
import { sha256Hex } from '../../core/hash.js';

const q = encodeURIComponent;

/** One line of the requirement: quorum of roles, self-approval, airlock, deadline. */
export function requirementText(a: any): string {
  const r = a.requirement ?? {};
  const roles = r.roles?.length ? ` of ${r.roles.join(' / ')}` : '';
  const airlock = r.airlock ? `, TOTP airlock (review ${r.airlock.floorSeconds}–${r.airlock.ceilingSeconds} s)` : '';
  const left = a.deadlines?.secondsLeft;
  const deadline = left === null || left === undefined ? '' : left === 0 ? ', deadline passed' : `, ${Math.ceil(left / 60)} min left`;
  return `${a.approvals?.length ?? 0}/${r.quorum} approvals${roles}${r.allowSelf ? '' : ', not the requester'}${airlock}${deadline}`;
}

/**
 * Every pending approval of the tenant, page by page (the API gives at most 1,000 at a time). The
 * first page is asked with the ETag it had last time: a 304 when the inbox is one page means
 * nothing changed, and nothing is read or rendered again.
 */
async function pending(api: Api, last: { etag: string | null; single: boolean }): Promise<{ items: any[]; etag: string | null; single: boolean } | null> {
  const items: any[] = [];
  let after: string | null = null;
  let first: string | null = null;
  let pages = 0;
  do {
    pages++;
    const path: string = `/v1/approvals?tenant=${q(api.tenant)}&status=pending&limit=1000${after ? `&after=${q(after)}` : ''}`;
    const a = await api.request('GET', path, !after && last.etag ? { 'if-none-match': last.etag } : {});
    if (a.status === 304 && last.single) return null;
    const page = a.status === 304 ? await api.request('GET', path) : a;
    if (page.status !== 200) throw new Error(page.body?.message ?? `HTTP ${page.status}`);
    items.push(...page.body.items);
    first ??= page.etag ?? sha256Hex(page.text);
    after = page.body.next;
  } while (after);
  return { items, etag: first, single: pages === 1 };
}

function inbox(items: any[]): HTMLElement {
  if (items.length === 0) return note('info', 'Nothing waits for approval.');
  return h(
    'ul',
    { class: 'inbox', id: 'inbox' },
    ...items.map((a) =>
      h(
        'li',
        { class: 'item' },
        link(`#/approval/${q(a.id)}`, h('strong', {}, a.action), ' on ', a.target),
        h('span', { class: 'who' }, `asked by ${a.requester} at ${a.createdAt}`),
        h('span', { class: 'req' }, requirementText(a)),
      ),
    ),
  );
}

/** The approvals inbox: pending commands, refreshed when one is held or decided elsewhere. */
export async function approvalsPage(root: HTMLElement, api: Api): Promise<() => void> {
  const list = h('div', { 'aria-live': 'polite' });
  const count = h('p', { class: 'count' });
  fill(root, h('h1', {}, 'Approvals'), count, list);
  const seen = { etag: null as string | null, single: false };
  return poll(4000, async (last) => {
    const got = await pending(api, last === null ? { etag: null, single: false } : seen);
    if (!got) return last ?? '';
    Object.assign(seen, { etag: got.etag, single: got.single });
    fill(count, `${got.items.length} pending in tenant ${api.tenant}`);
    fill(list, inbox(got.items));
    return got.etag ?? '';
  }, (err) => fill(list, note('bad', err)));
}

/** A held command: who asked, what, the requirement, the diff of its effect, the decisions. */
export async function approvalPage(root: HTMLElement, api: Api, [id]: string[]): Promise<() => void> {
  const body = h('div', {});
  fill(root, h('p', {}, link('#/approvals', '← Approvals')), h('h1', {}, `Approval ${id}`), body);
  return poll(4000, async (last) => {
    const a = await api.get(`/v1/approvals/${q(id)}?tenant=${q(api.tenant)}`);
    const tag = JSON.stringify([a.status, a.version]);
    if (tag === last) return tag;
    fill(body, ...(await detail(api, a)));
    return tag;
  }, (err) => fill(body, note('bad', err)));
}

async function detail(api: Api, a: any): Promise<Node[]> {
  const [log, index] = [a.pendingRecord?.log as string, a.pendingRecord?.index as number];
  const scroll = log?.split('/').pop();
  const parts: Node[] = [
    h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', { id: 'approval-status' }, a.status),
      h('dt', {}, 'Asked by'), h('dd', {}, a.requester),
      h('dt', {}, 'Action'), h('dd', {}, `${a.action} on ${a.target}`),
      h('dt', {}, 'Requires'), h('dd', {}, requirementText(a)),
      h('dt', {}, 'Expires'), h('dd', {}, a.deadlines?.expiresAt ?? a.expiresAt),
      h('dt', {}, 'Command hash'), h('dd', { class: 'hash' }, a.commandHash),
      h('dt', {}, 'Held record'), h('dd', {}, scroll ? link(`#/record/${q(a.tenant)}/${q(scroll)}/${index}`, `${log} #${index}`) : '—'),
    ),
  ];
  if (a.preview?.ok) {
    parts.push(h('h2', {}, 'Effect if approved now'));
    for (const w of a.preview.writes) {
      const cur = await api.request('GET', `/v1/entities/${q(a.tenant)}/${q(w.type)}/${q(w.id)}`);
      const before = cur.status === 200 ? (cur.body.doc ?? null) : null;
      parts.push(h('h3', {}, `${w.type}/${w.id} → version ${w.version}${w.deleted ? ' (deleted)' : ''}`), diffTable(before, w.deleted ? null : w.doc));
    }
  } else if (a.preview) {
    parts.push(note('bad', `If it ran now it would be refused: ${a.preview.code} ${a.preview.message}`));
  }
  if (a.hidden?.length) parts.push(note('info', `Policy keeps from you: ${a.hidden.join(', ')}.`));
  if (a.approvals?.length) parts.push(h('h2', {}, 'Approved by'), h('ul', {}, ...a.approvals.map((v: any) => h('li', {}, `${v.actor} (${v.roles.join(', ')}) at ${v.at}`))));
  const final = a.answer?.receipt;
  if (final) parts.push(h('p', {}, 'Final record: ', link(`#/record/${q(a.tenant)}/${q(String(final.log).split('/').pop()!)}/${final.index}`, `${final.log} #${final.index}`)));
  if (a.answer) parts.push(h('h2', {}, 'Final answer'), json(a.answer));
  if (a.command) parts.push(h('details', {}, h('summary', {}, 'Signed command'), json(a.command)));
  if (a.status === 'pending' || a.airlock) parts.push(actionsOf(api, a));
  return parts;
}
