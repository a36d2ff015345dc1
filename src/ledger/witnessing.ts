import type { Hash } from '../core/tlog/index.js';
import type { CheckpointRow, LogStore } from '../store/port.js';
import type { TileReader } from './tile-reader.js';

/**
 * A witness the log asks for cosignatures (C2SP tlog-witness). The implementation speaks the
 * protocol (old size, consistency proof, 409 with the witness's size); the integrator only says
 * which checkpoint and how to prove consistency from any smaller size.
 */
export interface Cosigner {
  /** The witness's key name, as it appears on its cosignature lines. */
  readonly name: string;
  /**
   * Resolves with the witness's cosignature lines (`— name base64\n`), each already verified against
   * the witness's key, or rejects saying why the witness refused or could not be reached.
   */
  cosign(origin: string, note: string, size: number, proof: (fromSize: number) => Promise<Hash[]>): Promise<string[]>;
}

export interface WitnessStatus {
  readonly name: string;
  readonly lastSize: number | null;
  readonly lastError: string | null;
  readonly lastAt: string | null;
}

/**
 * Gathers cosignatures for new checkpoints and keeps them with the checkpoint (appended to its
 * note, as signed-note allows). A witness that fails is asked again with the next checkpoint; the
 * witness policy (`witnessQuorum`) decides when a checkpoint counts as witnessed.
 */
export class Witnessing {
  private readonly statuses = new Map<string, { lastSize: number | null; lastError: string | null; lastAt: string | null }>();

  constructor(
    private readonly cosigners: readonly Cosigner[],
    readonly quorum: number,
    private readonly store: Pick<LogStore, 'addCosignatures'>,
    private readonly reader: TileReader,
  ) {
    for (const c of cosigners) this.statuses.set(c.name, { lastSize: null, lastError: null, lastAt: null });
  }

  /** Asks every witness to cosign `cp`; stores and returns the checkpoint with the cosignatures gathered. */
  async witness(cp: CheckpointRow, origin: string): Promise<CheckpointRow> {
    const proof = (from: number) => this.reader.consistencyProof(cp.tenant, cp.scroll, from, cp.size);
    const results = await Promise.allSettled(this.cosigners.map((c) => c.cosign(origin, cp.note, cp.size, proof)));
    const lines: string[] = [];
    results.forEach((r, i) => {
      const st = this.statuses.get(this.cosigners[i].name)!;
      st.lastAt = new Date().toISOString();
      if (r.status === 'fulfilled') {
        lines.push(...r.value);
        st.lastSize = cp.size;
        st.lastError = null;
      } else {
        st.lastError = r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    });
    if (lines.length === 0) return cp;
    const fresh = lines.filter((l) => !cp.note.includes(l));
    const note = cp.note + fresh.join('');
    const cosignatures = cp.cosignatures + new Set(fresh.map((l) => l.split(' ')[1])).size;
    await this.store.addCosignatures(cp.tenant, cp.scroll, cp.size, note, cosignatures);
    return { ...cp, note, cosignatures };
  }

  status(): WitnessStatus[] {
    return [...this.statuses].map(([name, s]) => ({ name, ...s }));
  }
}
