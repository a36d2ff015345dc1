import type { EntityRow } from '../../store/port.js';
import { loadLedger } from './stored-ledger.js';
import { replayState, type StateDeps } from './state.js';
import type { VersionDiff } from './versions.js';

export interface RebuildProblem {
  readonly tenant: string;
  readonly scroll: string;
  readonly index: number | null;
  readonly message: string;
}

export interface Rebuilt {
  /** Every entity version of the recomputed state (the whole history), in commit order. */
  readonly rows: readonly EntityRow[];
  /** Records read (every log, every outcome). */
  readonly records: number;
  /** Stored entity versions compared. */
  readonly stored: number;
  /** Where the stored state differs from the recomputed one: entity, version, record, fields. */
  readonly differences: readonly VersionDiff[];
  /**
   * Every problem the replay met, the differences included (one each); more problems than
   * differences means the ledger itself is in doubt (a stored body that fails its hash, a command
   * that does not apply): `writ verify` says more, and the state is not swapped.
   */
  readonly problems: readonly RebuildProblem[];
}

/**
 * Entity state rebuilt from the ledger alone, with the replay `writ verify` runs (state.ts and
 * src/state/replay.ts: the applier's own code, record after record in commit order), and the
 * differences from the stored state. Reads only; swapping the result in is the caller's (it must
 * hold the home's writer lock from before this reads until it has swapped).
 */
export async function rebuildState(deps: StateDeps): Promise<Rebuilt> {
  const problems: RebuildProblem[] = [];
  const problem = (tenant: string, scroll: string, index: number | null, message: string) => void problems.push({ tenant, scroll, index, message });
  const progress = (what: string) => (done: number, total: number) => deps.progress?.(what, done, total);
  const { records } = await loadLedger(deps.store, deps.catalog, problem, progress('reading records and bodies'));
  const rows: EntityRow[] = [];
  const differences: VersionDiff[] = [];
  const stored = await deps.store.scanEntityHistory(() => undefined);
  await replayState(deps, records, problem, progress('replaying the ledger'), { rows: (r) => void rows.push(...r), diff: (d) => void differences.push(d) });
  return { rows, records: records.size, stored, differences, problems };
}
