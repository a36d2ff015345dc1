import { parseCheckpoint, toHex, verifyNote, type Hasher, type VerifierKey } from '../../core/tlog/index.js';
import type { AnchoredCheckpoint } from '../anchors/anchor.js';
import { originOf } from '../record.js';
import { scanLog } from './log-scan.js';
import { verifyState, type StateDeps, type StateReport } from './state.js';

/** Checkpoints read per page. */
const CHECKPOINT_PAGE = 10_000;

export interface VerifyProblem {
  readonly log: string;
  /** The first bad record index, when the problem is tied to one. */
  readonly index: number | null;
  readonly message: string;
}

export interface LogReport {
  readonly origin: string;
  readonly records: number;
  readonly treeSize: number;
  readonly checkpoints: number;
  readonly anchored: number;
  readonly ok: boolean;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly logs: LogReport[];
  /** What the state checks covered: stored bodies, entity versions, stored answers (null: not asked for). */
  readonly state: StateReport | null;
  readonly problems: VerifyProblem[];
}

export interface VerifyDeps {
  /** The logs, and what the state checks read beside them. */
  readonly store: StateDeps['store'];
  readonly originPrefix: string;
  readonly logKey: VerifierKey;
  readonly hasher: Hasher;
  /** Checkpoints recorded outside the database: git, NDJSON, witness state. */
  readonly anchored: readonly AnchoredCheckpoint[];
  /** What witnesses say they cosigned, per origin (sizes only, or with the verdict on the root at that size). */
  readonly witnessed?: ReadonlyArray<{ readonly origin: string; readonly size: number; readonly sameRoot: boolean | null; readonly where: string }>;
  /**
   * The packs (with their handlers) and the configured keys, to check bodies, state and answers
   * (state.ts); without them only the logs are verified.
   */
  readonly state?: Pick<StateDeps, 'catalog' | 'configuredKey'>;
  /** Told how far each phase is (`what` names it): records checked so far, of how many. */
  readonly progress?: (what: string, done: number, total: number) => void;
}

interface Target {
  readonly tenant: string;
  readonly scroll: string;
  readonly origin: string;
  records: number;
}

/**
 * Verifies a whole deployment (DESIGN §6): every record re-hashed and chained, the Merkle tiles
 * rebuilt, every stored checkpoint's signature and root, and every anchored checkpoint (git,
 * NDJSON, witnesses) against the live log, so that a changed, deleted or reordered record, a bad
 * signature, and a truncated or rolled-back database are each reported with the first bad index.
 * Successive checkpoints are consistent when each root equals the root rebuilt from the same records.
 * Then what lies beside the logs is checked against them (state.ts): stored bodies, entity state
 * and history, stored answers.
 */
export async function verifyDeployment(deps: VerifyDeps): Promise<VerifyReport> {
  const { store } = deps;
  const targets = new Map<string, Target>();
  const target = (tenant: string, scroll: string) => {
    const origin = originOf(deps.originPrefix, tenant, scroll);
    let t = targets.get(origin);
    if (!t) targets.set(origin, (t = { tenant, scroll, origin, records: 0 }));
    return t;
  };
  for (const h of await store.logHeads()) target(h.tenant, h.scroll).records = h.size;
  for (const c of await store.latestCheckpoints()) target(c.tenant, c.scroll);
  const problems: VerifyProblem[] = [];
  const anchoredBy = new Map<string, AnchoredCheckpoint[]>();
  for (const a of deps.anchored) {
    if (!targets.has(a.origin)) {
      const m = a.origin.startsWith(deps.originPrefix + '/') ? /^([^/]+)\/([^/]+)$/.exec(a.origin.slice(deps.originPrefix.length + 1)) : null;
      if (!m) continue;
      target(m[1], m[2]);
    }
    anchoredBy.set(a.origin, [...(anchoredBy.get(a.origin) ?? []), a]);
  }
  const total = [...targets.values()].reduce((n, t) => n + t.records, 0);
  let done = 0;
  const logs: LogReport[] = [];
  for (const t of [...targets.values()].sort((a, b) => a.origin.localeCompare(b.origin))) {
    const problem = (index: number | null, message: string) => problems.push({ log: t.origin, index, message });
    const before = problems.length;
    const checkpoints = await allCheckpoints(store, t.tenant, t.scroll);
    const anchored = anchoredBy.get(t.origin) ?? [];
    const treeSize = checkpoints.at(-1)?.size ?? 0;
    const sizes = new Set([...checkpoints.map((c) => c.size), ...anchored.map((a) => a.size)]);
    const scan = await scanLog(store, t.tenant, t.scroll, treeSize, sizes, deps.hasher, (n) => {
      done += n;
      deps.progress?.('verifying the logs', done, total);
    });
    if (scan.problem) problem(scan.problem.index, scan.problem.message);
    for (const c of checkpoints) {
      const bad = await checkNote(c.note, deps.logKey, t.origin, c.size);
      if (bad) problem(null, `checkpoint ${c.size}: ${bad}`);
      else if (toHex(parseCheckpoint(c.note).root) !== c.root) problem(null, `checkpoint ${c.size}: its note and its stored root differ`);
      const root = scan.roots.get(c.size);
      if (!scan.problem && root !== undefined && root !== c.root) problem(null, `checkpoint ${c.size}: its root differs from the tree of the records (a record below index ${c.size} was changed)`);
    }
    for (const a of anchored) {
      const bad = await checkNote(a.note, deps.logKey, t.origin, a.size);
      if (bad) {
        problem(null, `anchored checkpoint ${a.size} (${a.where}): ${bad}`);
        continue;
      }
      const root = scan.roots.get(a.size);
      if (a.size > scan.records) {
        problem(scan.records, `anchored checkpoint ${a.size} (${a.where}) is beyond the ${scan.records} records in the database: the log was truncated or the database rolled back`);
      } else if (root !== undefined && root !== toHex(parseCheckpoint(a.note).root)) {
        problem(null, `anchored checkpoint ${a.size} (${a.where}) disagrees with the records: the log was rewritten below index ${a.size}`);
      }
    }
    for (const w of deps.witnessed ?? []) {
      if (w.origin !== t.origin) continue;
      if (w.size > scan.records) {
        problem(scan.records, `witness ${w.where} has cosigned checkpoint ${w.size}, beyond the ${scan.records} records in the database: the log was truncated or the database rolled back`);
      } else if (w.sameRoot === false) {
        problem(null, `witness ${w.where} holds another root for size ${w.size}: the log showed the witness a different tree (split view)`);
      }
    }
    logs.push({ origin: t.origin, records: scan.records, treeSize, checkpoints: checkpoints.length, anchored: anchored.length, ok: problems.length === before });
  }
  // Bodies, state and answers are checked against the records; problems of the logs come first.
  const state = deps.state
    ? await verifyState({ ...deps, ...deps.state }, (tenant, scroll, index, message) => {
        const origin = originOf(deps.originPrefix, tenant, scroll);
        problems.push({ log: origin, index, message });
        const i = logs.findIndex((l) => l.origin === origin);
        if (i >= 0) logs[i] = { ...logs[i], ok: false };
      })
    : null;
  return { ok: problems.length === 0, records: done, logs, state, problems };
}

async function allCheckpoints(store: StateDeps['store'], tenant: string, scroll: string) {
  const out = [];
  for (let from = 0; ; ) {
    const page = await store.checkpoints(tenant, scroll, from, CHECKPOINT_PAGE);
    out.push(...page);
    if (page.length < CHECKPOINT_PAGE) return out;
    from = page[page.length - 1].size + 1;
  }
}

/** Why a checkpoint note is not a valid checkpoint of this log signed by the log key, or null. */
async function checkNote(note: string, key: VerifierKey, origin: string, size: number): Promise<string | null> {
  try {
    await verifyNote(note, [key]);
    const cp = parseCheckpoint(note);
    if (cp.origin !== origin) return `it names origin ${cp.origin}`;
    if (cp.size !== size) return `it says size ${cp.size}`;
    return null;
  } catch (err) {
    return `its signature does not verify with the log key ${key.name}: ${(err as Error).message}`;
  }
}
