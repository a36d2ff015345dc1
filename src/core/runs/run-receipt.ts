import { WritError } from '../errors.js';
import { parseStrictJson } from '../strict-json.js';
import { verifyTlogProof, type VerifierKey } from '../tlog/index.js';
import { DOMAIN, MAX_RUN_OUTPUTS, MAX_STAGES, RUN_ID, manifestProblem, scrollOfDomain, type OutputEntry } from './run-doc.js';
import { sealResult, sealResultHash, sealRoot, type SealDocument } from './seal.js';

/**
 * A run receipt (`writ run receipt`): the seal document of a sealed run and the C2SP tlog-proof
 * of its SealRun record. Verifying it needs nothing but this file and the log's verifier key.
 */
export interface RunReceipt {
  readonly format: typeof RUN_RECEIPT_FORMAT;
  readonly seal: SealDocument;
  /** The C2SP tlog-proof (c2sp.org/tlog-proof@v1) of the SealRun record, with its leaf as extra data. */
  readonly proof: string;
}

export const RUN_RECEIPT_FORMAT = 'writ.run-receipt@v1';
/** Largest run receipt read: the bounded manifests of a run (MAX_RUN_OUTPUTS names) fit well within. */
export const RUN_RECEIPT_MAX_BYTES = 16 << 20;

export interface VerifiedRunReceipt {
  readonly seal: SealDocument;
  readonly root: string;
  /** The checkpoint's origin, `<prefix>/<tenant>/runs-<domain>`. */
  readonly log: string;
  readonly index: number;
  readonly treeSize: number;
}

function fail(why: string): never {
  throw new WritError('PROOF_INVALID', why);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks what the verifier will use as paths and names, before it trusts anything else. */
function checkSealShape(seal: unknown): asserts seal is SealDocument {
  if (!isObject(seal) || seal.v !== 1 || seal.kind !== 'writ.run-seal') fail('the receipt holds no writ.run-seal document (v 1)');
  if (typeof seal.tenant !== 'string' || typeof seal.run !== 'string' || !RUN_ID.test(seal.run)) fail('the seal document names no valid tenant and run');
  if (typeof seal.domain !== 'string' || !DOMAIN.test(seal.domain)) fail('the seal document names no valid domain');
  if (!Array.isArray(seal.stages) || seal.stages.length === 0 || seal.stages.length > MAX_STAGES) fail(`the seal document must list 1 to ${MAX_STAGES} stages`);
  const ids = new Set<string>();
  let files = 0;
  for (const s of seal.stages as unknown[]) {
    if (!isObject(s) || typeof s.id !== 'string' || !RUN_ID.test(s.id) || ids.has(s.id)) fail('a stage of the seal document has a missing, invalid or repeated id');
    ids.add(s.id);
    if (!Array.isArray(s.outputs)) fail(`stage ${s.id} has no outputs list`);
    const problem = manifestProblem(s.outputs as OutputEntry[]);
    if (problem) fail(`stage ${s.id}: ${problem}`);
    files += s.outputs.length;
  }
  if (files > MAX_RUN_OUTPUTS) fail(`the seal document lists ${files} outputs, more than a run may have (${MAX_RUN_OUTPUTS})`);
}

/** Parses a run receipt strictly (I-JSON, bounded); throws PROOF_INVALID. */
export function parseRunReceipt(text: string): RunReceipt {
  if (text.length > RUN_RECEIPT_MAX_BYTES) fail(`a run receipt is at most ${RUN_RECEIPT_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseStrictJson(text, { maxDepth: 16 });
  } catch (err) {
    fail(`the run receipt is not strict JSON: ${(err as Error).message}`);
  }
  if (!isObject(value) || value.format !== RUN_RECEIPT_FORMAT || typeof value.proof !== 'string') fail(`the file is not a run receipt (${RUN_RECEIPT_FORMAT} with seal and proof)`);
  checkSealShape(value.seal);
  return { format: RUN_RECEIPT_FORMAT, seal: value.seal, proof: value.proof };
}

export function formatRunReceipt(seal: SealDocument, proof: string): string {
  return JSON.stringify({ format: RUN_RECEIPT_FORMAT, seal, proof }, null, 2) + '\n';
}

/**
 * Verifies a run receipt offline (docs/runs.md, "Verifying a run"): the tlog-proof against the
 * log key (checkpoint signature, inclusion of the leaf), the leaf is the OK SealRun record of this
 * run in its tenant's `runs-<domain>` log, and its resultHash commits to the root recomputed from
 * the seal document. Throws PROOF_INVALID naming the first thing that fails.
 */
export async function verifyRunReceipt(text: string, logKey: VerifierKey): Promise<VerifiedRunReceipt> {
  const { seal, proof } = parseRunReceipt(text);
  const proved = await verifyTlogProof(proof, logKey);
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(proved.leaf)) as Record<string, unknown>;
  } catch {
    fail('the proven leaf is not a JSON ledger record');
  }
  if (!isObject(record) || record.index !== proved.index) fail('the proven leaf is not the ledger record at the proof index');
  const scroll = scrollOfDomain(seal.domain);
  if (!proved.checkpoint.origin.endsWith(`/${seal.tenant}/${scroll}`)) fail(`the checkpoint is for log ${proved.checkpoint.origin}, not the ${scroll} log of tenant ${seal.tenant}`);
  const expect: Record<string, unknown> = { tenant: seal.tenant, scroll, action: 'SealRun', outcome: 'OK', target: `run/${seal.run}` };
  for (const [field, want] of Object.entries(expect)) {
    if (record[field] !== want) fail(`the proven record has ${field} ${JSON.stringify(record[field])}, not ${JSON.stringify(want)}: it is not the seal of run ${seal.run}`);
  }
  let root: string;
  try {
    root = sealRoot(seal);
  } catch (err) {
    fail(`the seal document cannot be canonicalised: ${(err as Error).message}`);
  }
  if (sealResultHash(sealResult(seal, root)) !== record.resultHash) fail(`the seal document (root ${root}) is not the one the SealRun record commits to: the document was changed`);
  return { seal, root, log: proved.checkpoint.origin, index: proved.index, treeSize: proved.checkpoint.size };
}
