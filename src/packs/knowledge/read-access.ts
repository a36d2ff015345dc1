import type { ReadFacts } from '../../policy/reads.js';
import { CANON, MESSAGE, PERSPECTIVE, PROPOSAL } from './state.js';

/**
 * What a knowledge read is about, for policy (`read:knowledge`, docs/knowledge.md "Who reads
 * what"): the canon and the proposals are the tenant's shared knowledge; a perspective is its
 * actor's own, an inbox its recipient's (`practitioner`: the practitioners'). The pack's
 * policies.cedar decides on these resources; the entity routes map kip-* entities here too, so
 * that /v1/entities cannot show what the knowledge reads would not.
 */
export interface KnowledgeRead {
  readonly kind: 'knowledge';
  readonly resource: string;
  readonly facts: ReadFacts;
}

export const canonRead = (): KnowledgeRead => ({ kind: 'knowledge', resource: 'knowledge/canon', facts: {} });
export const proposalsRead = (): KnowledgeRead => ({ kind: 'knowledge', resource: 'knowledge/proposals', facts: {} });
export const perspectiveRead = (actor: string, reader: string | undefined): KnowledgeRead => ({ kind: 'knowledge', resource: `knowledge/perspective/${actor}`, facts: { own: actor === reader } });
export const inboxRead = (to: string, reader: string | undefined): KnowledgeRead => ({ kind: 'knowledge', resource: `knowledge/inbox/${to}`, facts: { own: to === reader } });

/** The read of a knowledge entity (`id` undefined: a listing of the type), or null for another type. */
export function knowledgeEntityRead(type: string, id: string | undefined, reader: string | undefined): KnowledgeRead | null {
  if (type === CANON) return canonRead();
  if (type === PROPOSAL) return proposalsRead();
  if (type === PERSPECTIVE) return perspectiveRead(id ?? '*', id === undefined ? undefined : reader);
  if (type === MESSAGE) {
    const to = id === undefined ? '*' : id.slice(0, Math.max(0, id.indexOf('~')));
    return inboxRead(to, id === undefined ? undefined : reader);
  }
  return null;
}
