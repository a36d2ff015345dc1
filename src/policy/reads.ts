import type { SchemaJson } from '@cedar-policy/cedar-wasm/nodejs';

/**
 * What a read can be about (docs/security.md, "Reads: who may see what"). Each kind is a Cedar
 * action `Writ::Action::"read:<kind>"` in the group `Writ::Action::"reads"`, decided by policy like
 * a command:
 *
 * - entity:   current and past versions of a tenant's entities (not keys, roles or approvals' commands)
 * - ledger:   ledger records (the leaves) of a tenant's logs, receipts by requestId
 * - envelope: the command bodies beside the leaves, and the command an approval holds
 * - approval: the approvals of a tenant (without the command they hold)
 * - command:  stored answers (GET /v1/commands/{tenant}/{requestId})
 * - keys:     `key` and `actor` entities: who holds which key and role
 * - outbox:   the deployment's outbox (events, sinks, dead letters, deliveries) and health details
 * - knowledge: the knowledge pack's canon, proposals, perspectives and inboxes (docs/knowledge.md)
 */
export const READ_KINDS = ['entity', 'ledger', 'envelope', 'approval', 'command', 'keys', 'outbox', 'knowledge'] as const;
export type ReadKind = (typeof READ_KINDS)[number];

export const READS_GROUP = 'reads';

export function readAction(kind: ReadKind): string {
  return `read:${kind}`;
}

/**
 * What a read's context tells policy beyond the tenant: `own`, the thing read was made by the
 * reader (its own command's answer or envelope, its own key or actor entity); `decides`, the reader
 * holds a role the approval it reads asks for (so it may see the command it decides on).
 */
export interface ReadFacts {
  readonly own?: boolean;
  readonly decides?: boolean;
}

/** The read actions of the Cedar schema (cedarSchema adds them beside the catalog's). */
export function readSchemaActions(): SchemaJson<string>[string]['actions'] {
  const actions: SchemaJson<string>[string]['actions'] = { [READS_GROUP]: {} };
  for (const kind of READ_KINDS) {
    actions[readAction(kind)] = {
      memberOf: [{ id: READS_GROUP }],
      appliesTo: {
        principalTypes: ['Actor'],
        resourceTypes: ['Resource'],
        // An empty payload, so that a policy over every action that reads `context.payload has f`
        // (as commands' policies do) stays valid; a read has no payload.
        context: { type: 'Record', attributes: { tenant: { type: 'String' }, own: { type: 'Boolean' }, decides: { type: 'Boolean' }, payload: { type: 'Record', attributes: {} } } },
      },
    };
  }
  return actions;
}
