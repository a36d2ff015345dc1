import { header } from './openapi-schemas.js';

const answer = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Answer' } } } });
const HEX64 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const FILES = {
  type: 'array',
  description: 'The files of the set, sorted by name, each with the SHA-256 of its text',
  items: { type: 'object', required: ['name', 'sha256'], additionalProperties: false, properties: { name: { type: 'string', description: '`packs/<pack>/policies.cedar` or `policies/<file>.cedar`' }, sha256: HEX64 } },
};
const IN_FORCE = {
  type: 'object',
  required: ['digest', 'files', 'policies'],
  additionalProperties: false,
  properties: { digest: { ...HEX64, description: 'SHA-256 of the `sha256sum` lines of the files, sorted by name (docs/policy.md, "Reloading")' }, files: FILES, policies: { type: 'integer', minimum: 0 } },
};
const RELOADED = {
  type: 'object',
  required: ['status', 'digest', 'previous', 'files', 'policies', 'warnings'],
  additionalProperties: false,
  properties: {
    status: { enum: ['reloaded', 'unchanged'], description: 'unchanged: the files are the set in force; nothing was recorded' },
    digest: HEX64,
    previous: { ...HEX64, description: 'the digest of the set in force before' },
    files: FILES,
    policies: { type: 'integer', minimum: 0 },
    warnings: { type: 'array', items: { type: 'string' } },
    requestId: { type: 'string', description: 'the writ.RecordPolicy record of the home tenant (when reloaded)' },
  },
};

/** GET /v1/policy and POST /v1/policy/reload (policy-routes.ts; docs/policy.md, "Reloading"). */
export function policyPaths(): Record<string, unknown> {
  return {
    '/v1/policy': {
      get: { summary: 'The policy set in force: its digest, its files and their digests', responses: { '200': { description: 'The set in force', content: { 'application/json': { schema: IN_FORCE } } } } },
    },
    '/v1/policy/reload': {
      post: {
        summary: "Read the home's and the packs' policy files again, validate them as at start and put them in force whole; takes no body",
        responses: {
          '200': { description: 'Reloaded (recorded in the ledger as writ.RecordPolicy), or unchanged', content: { 'application/json': { schema: RELOADED } } },
          '400': answer('INVALID_ENVELOPE: a body was sent (the reload takes none)'),
          '413': answer('PAYLOAD_TOO_LARGE: a body over 256 bytes'),
          '422': answer('POLICY_INVALID: the files do not load (details.problems); the set in force stays'),
          '503': { ...answer('UNAVAILABLE: the reload could not be recorded; the set in force stays'), headers: { 'Retry-After': header('RetryAfter') } },
        },
      },
    },
  };
}
