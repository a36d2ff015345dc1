import { setImmediate as nextTurn } from 'node:timers/promises';

/** Most rows read from the store at a time: the most work one turn of the event loop does for a page. */
export const PAGE_CHUNK = 16;
/** Bytes of items one turn aims at: after a chunk of large rows, the next chunk reads fewer. */
const TURN_BYTES = 256 * 1024;

export interface PageItem<C> {
  /** What the page shows for the row (serialised once, here). */
  readonly value: unknown;
  /** The cursor that continues right after this row. */
  readonly cursor: C;
}

export interface PageChunk<C> {
  readonly items: ReadonlyArray<PageItem<C>>;
  /** Where to read on from after the rows of this chunk; null when the list ended. */
  readonly next: C | null;
}

export interface Page<C> {
  /** Each item's JSON text. */
  readonly texts: readonly string[];
  /** The cursor of the next page, null when the list ended. */
  readonly next: C | null;
}

/**
 * A page of a list route, bounded by items (`limit`) and by bytes (`maxBytes`, limits.maxPageBytes),
 * so that no request holds the event loop or memory for long whatever the rows hold: rows are read
 * at most PAGE_CHUNK at a time (fewer once they prove large: about TURN_BYTES per read) with a turn
 * of the event loop between reads, each item is serialised once, and the page stops before the item
 * that would take it past `maxBytes`. A page holds at least one item (a row larger than the budget
 * comes alone), so `next` always moves on.
 */
export async function bytePage<C>(start: C, limit: number, maxBytes: number, read: (cursor: C, n: number) => Promise<PageChunk<C>>): Promise<Page<C>> {
  const texts: string[] = [];
  let bytes = 0;
  let last = start;
  let cursor = start;
  let rows = PAGE_CHUNK;
  for (;;) {
    const chunk = await read(cursor, Math.min(rows, limit - texts.length));
    const before = bytes;
    for (const item of chunk.items) {
      const text = JSON.stringify(item.value);
      const size = Buffer.byteLength(text) + 1;
      if (texts.length > 0 && bytes + size > maxBytes) return { texts, next: last };
      texts.push(text);
      bytes += size;
      last = item.cursor;
      if (texts.length === limit) return { texts, next: last };
    }
    if (chunk.next === null) return { texts, next: null };
    cursor = chunk.next;
    if (chunk.items.length > 0) rows = Math.max(1, Math.min(PAGE_CHUNK, Math.floor((TURN_BYTES * chunk.items.length) / (bytes - before))));
    await nextTurn();
  }
}

/** The JSON text of `{...head, [key]: [items…], next}` from a page whose items are serialised already. */
export function pageJson(head: Readonly<Record<string, unknown>>, key: string, page: Page<unknown>): string {
  const fields = JSON.stringify(head).slice(1, -1);
  return `{${fields}${fields ? ',' : ''}${JSON.stringify(key)}:[${page.texts.join(',')}],"next":${JSON.stringify(page.next)}}`;
}
