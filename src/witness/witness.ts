import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/config.js';
import { WritError } from '../core/errors.js';
import {
  SIG_TYPE_ED25519,
  emptyRoot,
  fromBase64,
  hashEquals,
  keyLabel,
  parseVerifierKey,
  signatureLine,
  toBase64,
  verifyConsistency,
  verifyNote,
  type VerifierKey,
} from '../core/tlog/index.js';
import { writeKeyPair } from '../home/keys.js';
import { CosignatureSigner } from '../ledger/note-signer.js';
import { parseAddCheckpoint } from './request.js';
import { WitnessState } from './state.js';

/** A log the witness follows: its exact origin or an origin prefix (`<prefix>/…`), and its note verifier key (type 0x01). */
export type WitnessLogConfig = Config['witness']['logs'][number];

/** What add-checkpoint answers when it does not throw: cosignature lines, or the size the witness holds (409, `text/x.tlog.size`). */
export type AddCheckpointAnswer = { readonly status: 200; readonly lines: string[] } | { readonly status: 409; readonly size: number };

/** What a Witness is made of; `openWitness` builds them from a home's config. */
export interface WitnessOptions {
  readonly signer: CosignatureSigner;
  readonly state: WitnessState;
  readonly logs: readonly WitnessLogConfig[];
  /** Milliseconds since the epoch; the cosignature timestamp is this in whole seconds. */
  readonly now?: () => number;
  /**
   * Called when a checkpoint signed by a trusted log key is inconsistent with what this witness
   * cosigned: evidence of a split view or a rolled-back log, worth keeping (C2SP tlog-witness MAY log it).
   */
  readonly onMisbehaviour?: (origin: string, why: string, note: string) => void;
}

interface TrustedLog {
  readonly origin?: string;
  readonly originPrefix?: string;
  readonly vkey: string;
  readonly key: VerifierKey;
}

function trusted(log: WitnessLogConfig, i: number): TrustedLog {
  const where = `witness.logs[${i}]`;
  if ((log.origin === undefined) === (log.originPrefix === undefined)) throw new WritError('INTERNAL', `${where} needs exactly one of "origin" and "originPrefix"`);
  let key: VerifierKey;
  try {
    key = parseVerifierKey(log.vkey);
  } catch (err) {
    throw new WritError('INTERNAL', `${where}.vkey is not a verifier key: ${(err as Error).message}`);
  }
  if (key.type !== SIG_TYPE_ED25519) throw new WritError('INTERNAL', `${where}.vkey must be a log's Ed25519 note key (type 0x01), e.g. the one \`writ serve\` prints`);
  return { ...log, key };
}

/**
 * The witness side of C2SP tlog-witness, independent of HTTP: checks an add-checkpoint request
 * against the trusted log keys and the latest checkpoint cosigned per origin, persists the new one
 * and returns a C2SP tlog-cosignature line. Throws WritError WITNESS_BAD_REQUEST (400),
 * WITNESS_UNTRUSTED (403), WITNESS_UNKNOWN_LOG (404), WITNESS_CONFLICT (409, same size, other root)
 * or PROOF_INVALID (422).
 */
export class Witness {
  readonly name: string;
  /** The witness's verifier key (type 0x04) that logs configure under `witnesses.list`. */
  readonly vkey: string;
  private readonly logs: readonly TrustedLog[];
  private readonly now: () => number;

  constructor(private readonly options: WitnessOptions) {
    this.name = options.signer.name;
    this.vkey = options.signer.vkey;
    this.logs = options.logs.map(trusted);
    this.now = options.now ?? Date.now;
  }

  /** The log keys trusted for `origin`: configured for it exactly, or for a prefix followed by `/`. */
  keysFor(origin: string): VerifierKey[] {
    return this.logs.filter((l) => l.origin === origin || (l.originPrefix !== undefined && origin.startsWith(`${l.originPrefix}/`))).map((l) => l.key);
  }

  /** What `GET /` shows: who this witness is and which logs it follows. */
  describe(): { name: string; vkey: string; logs: Array<{ origin?: string; originPrefix?: string; vkey: string }> } {
    return { name: this.name, vkey: this.vkey, logs: this.logs.map(({ key: _key, ...log }) => log) };
  }

  /** Handles one add-checkpoint body (C2SP tlog-witness), in the order of checks the spec gives. */
  async addCheckpoint(body: string): Promise<AddCheckpointAnswer> {
    const req = parseAddCheckpoint(body);
    const { origin, size, root } = req.checkpoint;
    const keys = this.keysFor(origin);
    if (keys.length === 0) {
      throw new WritError('WITNESS_UNKNOWN_LOG', `witness ${this.name} does not follow ${origin}; add {"origin": ${JSON.stringify(origin)}, "vkey": "<the log's verifier key>"} to witness.logs in its config`);
    }
    try {
      await verifyNote(req.note, keys);
    } catch (err) {
      throw new WritError('WITNESS_UNTRUSTED', `no signature on the checkpoint verifies with a key witness ${this.name} trusts for ${origin} (${keys.map(keyLabel).join(', ')}): ${(err as Error).message}`);
    }
    if (req.old > size) throw new WritError('WITNESS_BAD_REQUEST', `old size ${req.old} is larger than the checkpoint size ${size}`);

    return this.options.state.withLock(origin, async (): Promise<AddCheckpointAnswer> => {
      const head = this.options.state.get(origin);
      const stored = head?.size ?? 0;
      if (req.old !== stored) return { status: 409, size: stored };
      const storedRoot = head ? fromBase64(head.root) : emptyRoot();
      if (req.old === size) {
        if (!hashEquals(storedRoot, root)) {
          const why = `witness ${this.name} cosigned ${origin} at size ${size} with another root hash; the log shows two views (split view)`;
          this.options.onMisbehaviour?.(origin, why, req.noteText);
          throw new WritError('WITNESS_CONFLICT', why);
        }
        if (req.proof.length > 0) throw new WritError('PROOF_INVALID', `the consistency proof must be empty when the old size equals the checkpoint size (${size})`);
      } else if (req.old === 0) {
        // Every tree extends the empty one; a proof here is meaningless (C2SP: it MUST be empty).
        if (req.proof.length > 0) throw new WritError('PROOF_INVALID', 'the consistency proof must be empty when the old size is 0');
      } else {
        try {
          verifyConsistency(req.old, size, storedRoot, root, req.proof);
        } catch (err) {
          const why = `the checkpoint of size ${size} is not consistent with size ${req.old} that witness ${this.name} cosigned for ${origin}: ${(err as Error).message}`;
          this.options.onMisbehaviour?.(origin, why, req.noteText);
          throw new WritError('PROOF_INVALID', why);
        }
      }
      // C2SP tlog-witness: persist before answering; the lock keeps the check and this write atomic.
      if (!head || head.size !== size) await this.options.state.put(origin, { size, root: toBase64(root) });
      const sig = this.options.signer.cosign(req.note.text, Math.floor(this.now() / 1000));
      return { status: 200, lines: [signatureLine(sig)] };
    });
  }
}

/**
 * A witness's own key name when none is configured: the deployment's prefix and a digest of its
 * key, so that it never shares a name with the log it witnesses or with another witness left at
 * the defaults (both would read `writ.local…` in every error about a wrong key).
 */
export function defaultWitnessName(prefix: string, privatePem: string): string {
  const spki = createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'der' });
  return `${prefix}-${createHash('sha256').update(spki).digest('hex').slice(0, 8)}`;
}

/** Opens the witness of a home: its key (created, mode 0600, on first start) and its state file. */
export async function openWitness(config: Config['witness'], options: Pick<WitnessOptions, 'now' | 'onMisbehaviour'> = {}): Promise<Witness> {
  if (!existsSync(config.keyFile)) writeKeyPair(config.keyFile);
  const pem = await readFile(config.keyFile, 'utf8');
  const signer = new CosignatureSigner(config.name ?? defaultWitnessName(config.namePrefix, pem), pem);
  const state = await WitnessState.open(config.statePath);
  return new Witness({ ...options, signer, state, logs: config.logs });
}
