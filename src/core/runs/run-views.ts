import { WritError } from '../errors.js';
import { nextStage, type RunDoc } from './run-doc.js';
import { sealDocumentOfSealed, sealRoot, type SealDocument } from './seal.js';

/**
 * What `writ run next` and the MCP tool run_next say of a run: the next stage to do (its contract
 * entry and position), or why there is none.
 */
export function nextView(doc: RunDoc): Record<string, unknown> {
  const next = nextStage(doc);
  const done = doc.stages.filter((s) => s.status === 'done').length;
  if (!next) return { run: doc.id, status: doc.status, next: null, stagesDone: done, stagesTotal: doc.stages.length, hint: doc.status === 'completed' || doc.status === 'aborted' ? `seal it: writ run seal ${doc.id}` : 'nothing left to do' };
  const position = doc.contract.stages.findIndex((s) => s.id === next.id);
  return { run: doc.id, status: doc.status, next: { position: position + 1, ...doc.contract.stages[position] }, stagesDone: done, stagesTotal: doc.stages.length, order: doc.contract.stageOrder ?? 'strict' };
}

/**
 * The seal document of a sealed run, checked against the root its entity names (a document that
 * does not hash to it is not worth sending): what a run receipt is built from.
 */
export function sealOfRun(tenant: string, doc: RunDoc): SealDocument {
  if (doc.status !== 'sealed') throw new WritError('INVALID_STATE', `run ${doc.id} is ${doc.status}, not sealed; seal it first (writ run seal ${doc.id})`);
  const seal = sealDocumentOfSealed(tenant, doc);
  if (sealRoot(seal) !== doc.seal!.root) throw new WritError('LEDGER_INCONSISTENT', `run ${doc.id}: the stored run does not hash to its seal root ${doc.seal!.root}; run writ verify on the server`);
  return seal;
}
