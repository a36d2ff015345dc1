import { h, link } from './dom.js';

const q = encodeURIComponent;

/** The record filters of the ledger explorer (each optional; `since`/`until` are ISO times). */
export interface Filter {
  actor?: string;
  action?: string;
  outcome?: string;
  code?: string;
  since?: string;
  until?: string;
}

const FIELDS: (keyof Filter)[] = ['actor', 'action', 'outcome', 'code', 'since', 'until'];

export function matches(rec: any, f: Filter): boolean {
  if (f.actor && rec.actor !== f.actor) return false;
  if (f.action && !String(rec.action).includes(f.action)) return false;
  if (f.outcome && rec.outcome !== f.outcome) return false;
  if (f.code && rec.code !== f.code) return false;
  if (f.since && rec.ts < f.since) return false;
  if (f.until && rec.ts > f.until) return false;
  return true;
}

export function filterForm(f: Filter, apply: (f: Filter) => void): HTMLFormElement {
  const inputs = FIELDS.map((k) => h('input', { type: 'text', id: `f-${k}`, name: k, value: f[k] ?? '', placeholder: k === 'since' || k === 'until' ? '2026-01-01T00:00:00Z' : '', autocomplete: 'off' }));
  return h(
    'form',
    {
      class: 'filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        apply(Object.fromEntries(inputs.filter((i) => i.value.trim()).map((i) => [i.name, i.value.trim()])));
      },
    },
    ...FIELDS.flatMap((k, i) => [h('label', { for: `f-${k}` }, k), inputs[i]]),
    h('button', { type: 'submit' }, 'Filter'),
  );
}

export function recordRows(tenant: string, scroll: string, records: any[], f: Filter): HTMLElement {
  const shown = records.filter((r) => matches(r.record, f)).reverse();
  return h(
    'table',
    { class: 'records', id: 'records' },
    h('thead', {}, h('tr', {}, ...['#', 'time', 'actor', 'action', 'outcome', 'target'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...shown.map((r) => {
      const rec = r.record;
      return h('tr', { class: rec.outcome.toLowerCase() },
        h('td', {}, link(`#/record/${q(tenant)}/${q(scroll)}/${rec.index}`, rec.index)),
        h('td', {}, rec.ts), h('td', {}, rec.actor), h('td', {}, rec.action),
        h('td', {}, rec.outcome, rec.code ? ` ${rec.code}` : ''), h('td', {}, rec.target ?? ''));
    })),
  );
}
