const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const answer = (description: string) => ({ description, content: { 'application/json': { schema: ref('Answer') } } });
const json = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }, required = false) => ({ name, in: 'query', required, description, schema });
const tenant = { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } };
const REF = query('ref', 'canon (default), perspective/<actor> or proposal/<id>');
const errors = { '400': answer('INVALID_ENVELOPE or INVALID_PAYLOAD (bad query, path or ref)'), '404': answer('NOT_FOUND') };
const sha = { type: ['string', 'null'], pattern: '^[0-9a-f]{40}$' };

type Operation = { readonly summary: string } & Record<string, unknown>;

const get = (summary: string, parameters: unknown[], schema: unknown): Operation => ({ summary, parameters: [tenant, ...parameters], responses: { '200': json(summary, schema), ...errors } });

/** The OpenAPI operations of the knowledge pack's reads (docs/knowledge.md, "Reads"), by route; each is decided by policy as read:knowledge. */
export const KNOWLEDGE_OPERATIONS = {
  entry: get('An entry (kip_get): its content and front matter on a ref, at its head or at a commit of its history', [REF, query('path', 'the entry path, e.g. notes/topic.md', { type: 'string' }, true), query('at', 'a commit id (40 hex) of the ref\'s history')], {
    type: 'object', required: ['ref', 'commit', 'path', 'blob', 'content'], properties: { ref: { type: 'string' }, commit: sha, path: { type: 'string' }, blob: { type: 'string' }, frontMatter: {}, content: { type: 'string' } },
  }),
  log: get('Commits of a ref (kip_log), newest first; with path, those that changed it', [REF, query('path', 'only commits that changed this entry'), query('limit', '1..200 (default 20)', { type: 'integer', minimum: 1, maximum: 200 })], {
    type: 'object', properties: { ref: { type: 'string' }, commits: { type: 'array', items: { type: 'object', properties: { commit: { type: 'string' }, parents: { type: 'array', items: { type: 'string' } }, author: { type: 'string' }, time: { type: 'string' }, message: { type: 'string' } } } } },
  }),
  seq: get("The canon's landing counter and head", [], { type: 'object', required: ['seq', 'head'], properties: { seq: { type: 'integer', minimum: 0 }, head: sha } }),
  search: get('Ranked full-text search over the canon and the perspectives the caller may read', [query('q', 'search words (1..256 characters)', { type: 'string' }, true), query('ref', 'canon or perspective/<actor> only'), query('limit', '1..100 (default 20)', { type: 'integer', minimum: 1, maximum: 100 })], {
    type: 'object', properties: { hits: { type: 'array', items: { type: 'object', properties: { ref: { type: 'string' }, path: { type: 'string' }, title: { type: 'string' }, snippet: { type: 'string' }, rank: { type: 'number' } } } } },
  }),
  inbox: get("An inbox: the caller's own by default, to=practitioner for the practitioners'; unread unless all=true", [query('to', 'whose inbox'), query('all', 'true: read messages too', { enum: ['true', 'false'] })], {
    type: 'object', properties: { to: { type: 'string' }, messages: { type: 'array', items: { type: 'object' } } },
  }),
  status: get('The canon, the open proposals and (for practitioners, admins, auditors) the perspectives', [], {
    type: 'object', properties: { canon: { type: 'object' }, proposals: { type: 'array' }, perspectives: { type: ['array', 'null'] } },
  }),
  preview: {
    summary: 'What landing a proposal now would change, and its conflicts with canon',
    parameters: [tenant, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { '200': json('The preview', { type: 'object', properties: { proposalId: { type: 'string' }, status: { type: 'string' }, changedPaths: { type: 'array', items: { type: 'string' } }, conflicts: { type: 'array', items: { type: 'string' } }, merges: { type: 'boolean' }, nextSeq: { type: 'integer' } } }), ...errors },
  },
} satisfies Record<string, Operation>;
