import { WritError } from '../../../core/errors.js';
import { verifyReceipt } from '../../../sdk/receipt.js';
import { errorOf, okBody, queryOf, seg } from '../api.js';
import { ARG, tenantArg, type ToolContext, type ToolDefinition } from '../tool.js';

/** A receipt (C2SP tlog-proof) is a few hundred bytes per tree level plus a checkpoint and its cosignatures. */
const MAX_RECEIPT_CHARS = 64 * 1024;

async function receiptText(ctx: ToolContext, args: Record<string, any>): Promise<string> {
  const tenant = tenantArg(ctx, args);
  const wait = args.wait ?? true;
  let path: string;
  if (args.requestId !== undefined) path = `/v1/receipts/${seg(tenant)}/${seg(args.requestId)}${queryOf({ actor: args.actor, wait })}`;
  else if (args.scroll !== undefined && args.index !== undefined) path = `/v1/logs/${seg(tenant)}/${seg(args.scroll)}/receipts/${args.index}${queryOf({ wait })}`;
  else throw new WritError('INVALID_PAYLOAD', 'name the record: requestId, or scroll and index');
  const answer = await ctx.api.get(path);
  if (answer.status !== 200) throw errorOf(answer);
  return String(answer.body);
}

/** The ledger: recent records, receipts, and offline verification of a receipt (the SDK's core code). */
export const ledgerTools: readonly ToolDefinition[] = [
  {
    name: 'ledger_tail',
    description: "The last records of a tenant's logs (GET /v1/logs, then GET /v1/ledger/{tenant}/{scroll}/records): who ran which action with which outcome, code and target, with each record's leaf hash. Envelopes are not included.",
    inputSchema: { type: 'object', additionalProperties: false, properties: { scroll: ARG.scroll, n: { type: 'integer', minimum: 1, maximum: 100, description: 'records per log (default 10)' }, tenant: ARG.tenant } },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      const tenant = tenantArg(ctx, args);
      const n: number = args.n ?? 10;
      const all = okBody(await ctx.api.get('/v1/logs')) as { logs: Array<{ tenant: string; scroll: string; size: number }> };
      const logs = all.logs.filter((l) => l.tenant === tenant && (args.scroll === undefined || l.scroll === args.scroll));
      if (logs.length === 0) throw new WritError('NOT_FOUND', `no log${args.scroll ? ` ${args.scroll}` : 's'} in tenant ${JSON.stringify(tenant)} yet`);
      const out = [];
      for (const log of logs) {
        const page = okBody(await ctx.api.get(`/v1/ledger/${seg(tenant)}/${seg(log.scroll)}/records${queryOf({ from: Math.max(0, log.size - n), limit: n })}`)) as { log: string; records: Array<{ index: number; leafHash: string; record: Record<string, unknown> }> };
        out.push({ log: page.log, size: log.size, records: page.records.map((r) => ({ leafHash: r.leafHash, ...r.record })) });
      }
      return { value: { tenant, logs: out } };
    },
  },
  {
    name: 'get_receipt',
    description: "A record's receipt: C2SP tlog-proof text proving it is in the log's signed tree (by requestId, GET /v1/receipts/{tenant}/{requestId}; or by scroll and index). Waits up to a few seconds for a checkpoint unless wait is false (then RECEIPT_PENDING until one covers it).",
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { requestId: ARG.requestId, actor: { ...ARG.actor, description: 'the actor, when several used the requestId' }, scroll: ARG.scroll, index: ARG.index, wait: { type: 'boolean' }, tenant: ARG.tenant },
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      const receipt = await receiptText(ctx, args);
      return { value: { receipt }, text: receipt };
    },
  },
  {
    name: 'verify_receipt',
    description:
      "Verifies a receipt offline with writ's own verification code (no trust in the server's word): the checkpoint's signature by the log key, the inclusion proof, optional witness cosignatures, and optionally that the record is for a given commandHash. " +
      'Pass verifierKey from a source you trust; without it the server\'s key (GET /v1/logs) is used, and the answer says so.',
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['receipt'],
      properties: {
        receipt: { type: 'string', minLength: 1, maxLength: MAX_RECEIPT_CHARS, description: 'the C2SP tlog-proof text (get_receipt)' },
        verifierKey: { type: 'string', minLength: 1, maxLength: 1024, description: 'the log verifier key (name+hash+base64), as `writ init` printed it' },
        commandHash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'the record must name this commandHash' },
        witnesses: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 1024 }, description: "trusted witnesses' verifier keys" },
        witnessQuorum: { type: 'integer', minimum: 0, maximum: 16 },
      },
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      const key: string = args.verifierKey ?? String((okBody(await ctx.api.get('/v1/logs')) as { verifierKey: string }).verifierKey);
      const verified = await verifyReceipt(args.receipt, key, { witnesses: args.witnesses ?? [], witnessQuorum: args.witnessQuorum ?? 0, ...(args.commandHash ? { commandHash: args.commandHash } : {}) });
      return { value: { verified: true, keyFrom: args.verifierKey ? 'argument' : 'server (GET /v1/logs): pass verifierKey from a trusted source to rely on it', ...verified } };
    },
  },
];
