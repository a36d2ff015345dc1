import type { EntityRow, StoredOutcome } from '../../store/port.js';

/**
 * What batches planned but not yet committed have written: the applier plans the next batch while
 * the store commits the previous one, and plans must see those writes. An entry leaves when its
 * batch has committed (reads of the store then see it), unless a later batch has overwritten it.
 */
export class Overlay {
  private readonly entities = new Map<string, EntityRow>();
  private readonly outcomes = new Map<string, StoredOutcome>();

  entity(tenant: string, type: string, id: string): EntityRow | undefined {
    return this.entities.get(`${tenant}\n${type}\n${id}`);
  }

  outcome(tenant: string, actor: string, requestId: string): StoredOutcome | undefined {
    return this.outcomes.get(`${tenant}\n${actor}\n${requestId}`);
  }

  putEntity(row: EntityRow): void {
    this.entities.set(`${row.tenant}\n${row.type}\n${row.id}`, row);
  }

  /** Keeps the first outcome of a key, as the store does. */
  putOutcome(o: StoredOutcome): void {
    const key = `${o.tenant}\n${o.actor}\n${o.requestId}`;
    if (!this.outcomes.has(key)) this.outcomes.set(key, o);
  }

  /** Replaces the outcome of a key: a command held for approval reached its final answer. */
  replaceOutcome(o: StoredOutcome): void {
    this.outcomes.set(`${o.tenant}\n${o.actor}\n${o.requestId}`, o);
  }

  /** Forgets a committed batch's writes (those not overwritten since). */
  release(entities: readonly EntityRow[], outcomes: readonly StoredOutcome[]): void {
    for (const row of entities) {
      const key = `${row.tenant}\n${row.type}\n${row.id}`;
      if (this.entities.get(key) === row) this.entities.delete(key);
    }
    for (const o of outcomes) {
      const key = `${o.tenant}\n${o.actor}\n${o.requestId}`;
      if (this.outcomes.get(key) === o) this.outcomes.delete(key);
    }
  }

  clear(): void {
    this.entities.clear();
    this.outcomes.clear();
  }

  get size(): number {
    return this.entities.size + this.outcomes.size;
  }
}
