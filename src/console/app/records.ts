import { h, link } from './dom.js';

const q = encodeURIComponent;

/**
 * The record filters of the ledger explorer (each optional; `action` an exact name, `since`/`until`
 * RFC 3339 times), sent to the server, which filters the whole log (GET …/records?actor=…).
 */
export interface Filter {
  actor?: string;
  action?: string;
  outcome?: string;
  code?: string;
  since?: string;
  until?: string;
}

export const FIELDS: (keyof Filter)[] = ['actor', 'action', 'outcome', 'code', 'since', 'until'];

/** The filter fields set in a location's query (`from` and empty values left out). */
export function filterOf(query: URLSearchParams): Filter {
  return Object.fromEntries(FIELDS.flatMap((k) => (query.get(k) ? [[k, query.get(k) as string]] : [])));
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

export function recordRows(tenant: string, scroll: string, records: any[]): HTMLElement {
  const shown = [...records].reverse();
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
