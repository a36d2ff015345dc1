import type { EntityRow } from '../../store/port.js';

/**
 * The knowledge pack's entities. State (a projection of the ledger) says where every ref stands;
 * the git refs follow it (refs.ts), never the other way round.
 */
export const PERSPECTIVE = 'kip-perspective';
export const PROPOSAL = 'kip-proposal';
export const CANON = 'kip-canon';
export const CANON_ID = 'canon';
export const MESSAGE = 'kip-message';
/** The mailbox of whoever holds the practitioner role. */
export const PRACTITIONER = 'practitioner';

export interface PerspectiveDoc {
  readonly actor: string;
  readonly head: string | null;
  readonly tree: string;
  /** Commits on this perspective so far (its entity version counts commands, this counts commits). */
  readonly commits: number;
  /** The newest canon commit this perspective's history contains: the base of its proposals. */
  readonly base: string | null;
  readonly baseTree: string;
  readonly baseCommits: number;
  /** Set when the head came from a commit made outside writ and recorded by Reconcile. */
  readonly reconciled?: boolean;
}

export type ProposalStatus = 'open' | 'retracted' | 'landed';

export interface ProposalDoc {
  readonly id: string;
  readonly actor: string;
  readonly title: string;
  readonly head: string;
  readonly tree: string;
  readonly headCommits: number;
  readonly base: string | null;
  readonly baseTree: string;
  readonly status: ProposalStatus;
  readonly changedPaths: readonly string[];
  /** Conflicts with canon when proposed (Land checks again). */
  readonly conflicts: readonly string[];
  readonly landedAs?: string;
  readonly seq?: number;
}

export interface CanonDoc {
  readonly head: string | null;
  readonly tree: string;
  /** Landings so far: the canon's monotonic sequence number. */
  readonly seq: number;
  readonly reconciled?: boolean;
}

export interface MessageDoc {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
  readonly links: readonly string[];
  readonly sentAt: string;
  readonly readAt: string | null;
  readonly readBy: string | null;
}

/** A message's entity id: the recipient first, so one recipient's inbox is one range of ids. */
export function messageId(to: string, id: string): string {
  return `${to}~${id}`;
}

/** Ref names allow fewer characters than actor names (no `:`, no `..`, no `@{`): other bytes are %XX. */
export function refSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

export const CANON_REF = 'refs/heads/canon';
export const perspectiveRef = (actor: string) => `refs/perspectives/${refSegment(actor)}`;
export const proposalRef = (id: string) => `refs/proposals/${refSegment(id)}`;

/** The ref an entity row puts where, or null for entities that are not refs. Deleted or closed: the ref goes. */
export function refOf(row: EntityRow): { ref: string; oid: string | null } | null {
  const doc = row.doc as Record<string, unknown> | null;
  if (row.type === CANON) return { ref: CANON_REF, oid: (doc?.head as string | null) ?? null };
  if (row.type === PERSPECTIVE) return { ref: perspectiveRef(row.id), oid: row.deleted ? null : ((doc?.head as string | null) ?? null) };
  if (row.type === PROPOSAL) return { ref: proposalRef(row.id), oid: !row.deleted && doc?.status !== 'retracted' ? (doc?.head as string) : null };
  return null;
}

export const REF_TYPES: readonly string[] = [CANON, PERSPECTIVE, PROPOSAL];
