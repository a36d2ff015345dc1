import { h } from './dom.js';

/**
 * A held command's effect shown as a diff of the entity's current document against the one it
 * would write: one row per changed top-level field (nested values compared as JSON), with the
 * before and after side by side; rows are text nodes, never markup.
 */
export function diffTable(before: Record<string, unknown> | null, after: Record<string, unknown> | null): HTMLElement {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  const rows: HTMLTableRowElement[] = [];
  for (const k of keys) {
    const a = before && k in before ? JSON.stringify(before[k]) : undefined;
    const b = after && k in after ? JSON.stringify(after[k]) : undefined;
    if (a === b) continue;
    const kind = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed';
    rows.push(h('tr', { class: kind }, h('th', { scope: 'row' }, k), h('td', { class: 'before' }, a ?? '—'), h('td', { class: 'after' }, b ?? '—'), h('td', {}, kind)));
  }
  if (rows.length === 0) return h('p', {}, 'No field changes.');
  return h(
    'table',
    { class: 'diff' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'field'), h('th', { scope: 'col' }, 'now'), h('th', { scope: 'col' }, 'after'), h('th', { scope: 'col' }, ''))),
    h('tbody', {}, ...rows),
  );
}
