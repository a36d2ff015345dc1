import type { Api } from './api.js';
import { fill, h, json, link, note } from './dom.js';
import { recordRows, filterForm, filterOf } from './records.js';
import { receiptBox } from './verify-page.js';

const q = encodeURIComponent;
const PAGE = 100;

/** Every log with its size and latest checkpoint (GET /v1/logs, public). */
export async function ledgerPage(root: HTMLElement, api: Api): Promise<void> {
  const logs = await api.get('/v1/logs');
  fill(
    root,
    h('h1', {}, 'Ledger'),
    h('p', {}, `Log key ${logs.keyName}: `, h('code', { class: 'hash' }, logs.verifierKey)),
    h('table', { class: 'logs' },
      h('thead', {}, h('tr', {}, ...['log', 'records', 'checkpoint size', 'cosignatures', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...logs.logs.map((l: any) =>
        h('tr', {},
          h('td', {}, link(`#/log/${q(l.tenant)}/${q(l.scroll)}`, l.origin)),
          h('td', {}, l.size), h('td', {}, l.checkpointSize), h('td', {}, l.cosignatures),
          h('td', {}, l.problem ? note('bad', l.problem) : ''),
        ),
      )),
    ),
  );
}

/**
 * Most scan windows one view follows on its own while they come back empty (the server scans at most
 * 5,000 records a request): 20 cover 100,000 records; past that the reader clicks on.
 */
const MAX_EMPTY_WINDOWS = 20;

/** One log's records, a page at a time, filtered by the server by actor / action / outcome / code / time. */
export async function logPage(root: HTMLElement, api: Api, [tenant, scroll]: string[], query: URLSearchParams): Promise<void> {
  const logs = await api.get('/v1/logs');
  const size: number = logs.logs.find((l: any) => l.tenant === tenant && l.scroll === scroll)?.size ?? 0;
  const filter = filterOf(query);
  const filtering = Object.keys(filter).length > 0;
  // A filtered view reads forward from the start of the log (or `from`); a plain one opens on the latest page.
  const from = query.has('from') ? Math.max(0, Number(query.get('from'))) : filtering ? 0 : Math.max(0, size - PAGE);
  let envelopes = true;
  const read = async (at: number) => {
    const base = `/v1/ledger/${q(tenant)}/${q(scroll)}/records?from=${at}&limit=${PAGE}${filtering ? `&${new URLSearchParams({ ...filter })}` : ''}`;
    // Envelopes when policy lets this reader see them; the records alone otherwise.
    let page = envelopes ? await api.request('GET', `${base}&envelopes=true`) : undefined;
    if (!page || page.status === 403) {
      envelopes = false;
      page = await api.request('GET', base);
    }
    if (page.status !== 200) throw new Error(page.body?.message ?? `HTTP ${page.status}`);
    return page.body;
  };
  let body = await read(from);
  // An empty filtered page with a `next` means the server stopped at its scan window: read on.
  for (let windows = 1; filtering && body.records.length === 0 && body.next !== null && windows < MAX_EMPTY_WINDOWS; windows++) body = await read(body.next);
  const records: any[] = body.records;
  const nav = (at: number, label: string) => link(`#/log/${q(tenant)}/${q(scroll)}?${new URLSearchParams({ ...filter, from: String(at) })}`, label);
  const status = filtering
    ? h('p', { id: 'scan-note' }, `${records.length} matching records from #${from}; scanned up to #${(body.next ?? size) - 1}${body.next === null ? ' (the end of the log)' : ''}. `, body.next !== null ? nav(body.next, 'scan on →') : null, ' ', nav(0, 'first'))
    : h('p', {}, `${size} records; showing ${from}–${from + records.length - 1}. `, from > 0 ? nav(Math.max(0, from - PAGE), '← older') : null, ' ', from + PAGE < size ? nav(from + PAGE, 'newer →') : null, ' ', nav(0, 'first'), ' ', nav(Math.max(0, size - PAGE), 'latest'));
  fill(
    root,
    h('h1', {}, body.log),
    status,
    filterForm(filter, (f) => (location.hash = `#/log/${q(tenant)}/${q(scroll)}?${new URLSearchParams({ ...f })}`)),
    recordRows(tenant, scroll, records),
  );
}

/** One record: the leaf, its envelope or who redacted it, the entity it changed, its receipt. */
export async function recordPage(root: HTMLElement, api: Api, [tenant, scroll, index]: string[]): Promise<void> {
  const base = `/v1/ledger/${q(tenant)}/${q(scroll)}/records?from=${Number(index)}&limit=1`;
  let page = await api.request('GET', `${base}&envelopes=true`);
  if (page.status === 403) page = await api.request('GET', base);
  if (page.status !== 200) throw new Error(page.body?.message ?? `HTTP ${page.status}`);
  const r = page.body.records[0];
  if (!r || r.index !== Number(index)) throw new Error(`no record ${index} in ${tenant}/${scroll}`);
  const rec = r.record;
  const payload = r.envelope?.payload ?? {};
  const [type, ...id] = (rec.target ?? '').split('/');
  fill(
    root,
    h('p', {}, link(`#/log/${q(tenant)}/${q(scroll)}`, `← ${page.body.log}`)),
    h('h1', {}, `Record ${rec.index}: ${rec.action} ${rec.outcome}${rec.code ? ` ${rec.code}` : ''}`),
    h('ul', { class: 'links' },
      rec.target ? h('li', {}, 'Changed ', link(`#/entity/${q(tenant)}/${q(type)}/${q(id.join('/'))}`, rec.target), rec.version ? ` to version ${rec.version}` : '') : null,
      payload.approvalId ? h('li', {}, 'Decides ', link(`#/approval/${q(payload.approvalId)}`, `approval ${payload.approvalId}`)) : null,
      rec.outcome === 'PENDING' ? h('li', {}, 'Held for approval: see the ', link('#/approvals', 'inbox')) : null,
    ),
    json(rec),
    h('h2', {}, 'Command'),
    r.redacted ? note('info', `Redacted by ${r.redacted.by} at ${r.redacted.at}: ${r.redacted.reason}`) : r.envelope ? json(r.envelope) : note('info', 'Policy does not show you the command body.'),
    receiptBox(api, tenant, scroll, rec.index),
  );
}

/** An entity's history, and its document at one point (?at=<ledger index>). */
export async function entityPage(root: HTMLElement, api: Api, [tenant, type, ...rest]: string[], query: URLSearchParams): Promise<void> {
  const id = rest.join('/');
  const path = `/v1/entities/${q(tenant)}/${q(type)}/${q(id)}`;
  const at = query.get('at');
  const [doc, hist] = await Promise.all([api.get(at ? `${path}?at=${Number(at)}` : path), api.get(`${path}/history?limit=100`)]);
  fill(
    root,
    h('h1', {}, `${type}/${id}`, at ? ` as of ledger index ${at}` : ''),
    json(doc),
    h('h2', {}, 'History'),
    h('ol', { class: 'history' }, ...hist.versions.map((v: any) =>
      h('li', {}, `v${v.version} by ${v.updatedBy} at ${v.updatedAt} `, link(`#/record/${q(tenant)}/${q(v.scroll)}/${v.index}`, `record ${v.index}`), ' · ', link(`#/entity/${q(tenant)}/${q(type)}/${q(id)}?at=${v.index}`, 'view then')),
    )),
  );
}
