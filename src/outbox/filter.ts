import type { SinkFilter } from '../config/config.js';
import type { OutboxEvent } from '../store/port.js';

type Routed = Pick<OutboxEvent, 'tenant' | 'scroll' | 'action'>;

/** True when the sink's filter lets the event through; an absent list lets every value through. */
export function passes(filter: SinkFilter, event: Routed): boolean {
  if (filter.tenants && !filter.tenants.includes(event.tenant)) return false;
  if (filter.scrolls && !filter.scrolls.includes(event.scroll)) return false;
  if (filter.actions && !filter.actions.includes(event.action)) return false;
  return true;
}
