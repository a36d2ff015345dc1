import { WritError } from '../core/errors.js';
import {
  SIG_TYPE_COSIGNATURE,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  signatureLine,
  toBase64,
  verifyCosignature,
  hashEquals,
  type Hash,
  type VerifierKey,
} from '../core/tlog/index.js';
import type { Cosigner } from './witnessing.js';

export interface WitnessClientOptions {
  /** The witness's key name; MUST be the name in `vkey` (it names the cosignature lines). */
  readonly name: string;
  /** The witness's submission prefix; `/add-checkpoint` is appended. */
  readonly url: string;
  /** The witness's verifier key, type 0x04 (C2SP tlog-cosignature). */
  readonly vkey: string;
  readonly timeoutMs: number;
}

/** Largest answer read from a witness: a few cosignature lines are a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

const STATUS_CODE = { 400: 'WITNESS_BAD_REQUEST', 403: 'WITNESS_UNTRUSTED', 404: 'WITNESS_UNKNOWN_LOG', 409: 'WITNESS_CONFLICT', 422: 'PROOF_INVALID' } as const;
const WHAT_TO_DO: Record<number, string> = {
  400: 'the request was malformed; this is a bug in writ or the witness, report it',
  403: "the witness does not trust this log's key; give the witness operator the log's verifier key",
  404: "the witness does not follow this log; ask the witness operator to add the origin (or its prefix) with the log's verifier key",
  409: 'the witness cosigned another root at this size; the log shows two views (run writ verify)',
  422: 'the witness refused the consistency proof; the log is not an extension of what it cosigned (run writ verify)',
};

/**
 * Asks one witness for cosignatures over the C2SP tlog-witness protocol: `POST <url>/add-checkpoint`
 * with `old <size>`, a consistency proof from that size and the signed checkpoint. It remembers per
 * origin the size the witness last cosigned; after a 409 `text/x.tlog.size` answer it retries once
 * from the size the witness reports. Every returned cosignature is verified against the witness key.
 */
export class WitnessClient implements Cosigner {
  readonly name: string;
  readonly url: string;
  readonly key: VerifierKey;
  private readonly timeoutMs: number;
  private readonly lastSize = new Map<string, number>();

  constructor(options: WitnessClientOptions) {
    let key: VerifierKey;
    try {
      key = parseVerifierKey(options.vkey);
    } catch (err) {
      throw new WritError('INTERNAL', `witness ${options.name}: vkey is not a verifier key: ${(err as Error).message}`);
    }
    if (key.type !== SIG_TYPE_COSIGNATURE) throw new WritError('INTERNAL', `witness ${options.name}: vkey must be a cosignature key (type 0x04), as \`writ witness key\` prints`);
    if (key.name !== options.name) throw new WritError('INTERNAL', `witness ${options.name}: the name must be the key name of its vkey (${key.name})`);
    this.name = key.name;
    this.key = key;
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
  }

  /** C2SP tlog-witness add-checkpoint; resolves with the verified cosignature lines. */
  async cosign(origin: string, note: string, size: number, proof: (fromSize: number) => Promise<Hash[]>): Promise<string[]> {
    const text = parseNote(note).text;
    const cp = parseCheckpoint(text);
    if (cp.origin !== origin || cp.size !== size) throw new WritError('INTERNAL', `checkpoint ${cp.origin} ${cp.size} handed to witness ${this.name} as ${origin} ${size}`);
    let old = Math.min(this.lastSize.get(origin) ?? 0, size);
    for (let attempt = 0; ; attempt++) {
      const lines = old === 0 || old === size ? [] : await proof(old);
      const res = await this.post(`old ${old}\n${lines.map((h) => `${toBase64(h)}\n`).join('')}\n${note}`);
      const body = await this.read(res);
      if (res.status === 200) {
        const verified = await this.verify(body, text);
        this.lastSize.set(origin, size);
        return verified;
      }
      if (res.status === 409 && /^text\/x\.tlog\.size\b/.test(res.headers.get('content-type') ?? '')) {
        const theirs = /^(0|[1-9][0-9]{0,15})\n$/.exec(body);
        if (!theirs) throw this.refused(`answered 409 with a malformed size ${JSON.stringify(body.slice(0, 40))}`);
        const witnessSize = Number(theirs[1]);
        this.lastSize.set(origin, witnessSize);
        if (witnessSize > size) {
          throw new WritError('WITNESS_CONFLICT', `witness ${this.name} has cosigned ${origin} at size ${witnessSize}, beyond this checkpoint (${size}): it has seen a larger tree — the log was rolled back or shows a split view (run writ verify)`);
        }
        if (witnessSize === old) {
          throw new WritError('WITNESS_CONFLICT', `witness ${this.name} answered 409 to old size ${old} with that very size: it holds another checkpoint of ${origin} at that size — the log shows a split view (run writ verify)`);
        }
        if (attempt > 0) throw new WritError('WITNESS_CONFLICT', `witness ${this.name} moved to size ${witnessSize} of ${origin} while this client retried; the next checkpoint is sent from there`);
        old = witnessSize;
        continue;
      }
      throw this.failure(res.status, body);
    }
  }

  /**
   * Asks the witness how far it has seen a log without moving it forward: add-checkpoint with `old`
   * equal to the checkpoint's own size and no proof. A witness at exactly that size with the same
   * root re-cosigns (answer: that size, consistent); one at another size answers 409 with its size;
   * one holding another root at that size answers a conflict (a split view).
   */
  async probe(note: string): Promise<{ size: number; sameRoot: boolean | null }> {
    const cp = parseCheckpoint(parseNote(note).text);
    const res = await this.post(`old ${cp.size}\n\n${note}`);
    const body = await this.read(res);
    if (res.status === 200) return { size: cp.size, sameRoot: true };
    if (res.status === 409 && /^text\/x\.tlog\.size\b/.test(res.headers.get('content-type') ?? '')) {
      const theirs = /^(0|[1-9][0-9]{0,15})\n$/.exec(body);
      if (!theirs) throw this.refused(`answered 409 with a malformed size ${JSON.stringify(body.slice(0, 40))}`);
      return { size: Number(theirs[1]), sameRoot: null };
    }
    if (res.status === 409) return { size: cp.size, sameRoot: false };
    throw this.failure(res.status, body);
  }

  private async post(body: string): Promise<Response> {
    try {
      return await fetch(`${this.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `did not answer within ${this.timeoutMs} ms` : `is unreachable (${(err as Error).message})`;
      throw new WritError('UNAVAILABLE', `witness ${this.name} at ${this.url} ${why}; check witnesses.list and that the witness runs`, { retryAfter: 1 });
    }
  }

  private async read(res: Response): Promise<string> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw new WritError('UNAVAILABLE', `witness ${this.name} at ${this.url} broke off its answer (${(err as Error).message})`, { retryAfter: 1 });
    }
    if (bytes.length > MAX_ANSWER_BYTES) throw this.refused(`answered ${res.status} with ${bytes.length} bytes, more than ${MAX_ANSWER_BYTES}`);
    return new TextDecoder().decode(bytes);
  }

  /** Keeps the lines signed by this witness's key (others are ignored, as the spec says); each MUST verify. */
  private async verify(body: string, checkpointText: string): Promise<string[]> {
    let sigs;
    try {
      sigs = parseNote(`${checkpointText}\n${body}`).signatures;
    } catch (err) {
      throw this.refused(`answered 200 with lines that are not note signatures: ${(err as Error).message}`);
    }
    const ours = sigs.filter((s) => s.name === this.key.name && hashEquals(s.keyId, this.key.keyId));
    if (ours.length === 0) throw this.refused('answered 200 without a cosignature by its key; check the vkey configured for it');
    for (const sig of ours) {
      try {
        await verifyCosignature(sig, this.key, checkpointText);
      } catch (err) {
        throw this.refused(`returned a cosignature that does not verify: ${(err as Error).message}`);
      }
    }
    return ours.map(signatureLine);
  }

  private refused(what: string): WritError {
    return new WritError('PROOF_INVALID', `witness ${this.name} at ${this.url} ${what}`);
  }

  private failure(status: number, body: string): WritError {
    let message = body.slice(0, 300);
    try {
      const m = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof m === 'string') message = m;
    } catch {
      // Not writ's JSON error shape: another witness implementation; show the text as it is.
    }
    const code = STATUS_CODE[status as keyof typeof STATUS_CODE] ?? (status >= 500 ? 'UNAVAILABLE' : 'WITNESS_BAD_REQUEST');
    const hint = WHAT_TO_DO[status] ?? (status >= 500 ? 'the witness failed; it is asked again with the next checkpoint' : 'unexpected status');
    return new WritError(code, `witness ${this.name} at ${this.url} answered ${status}: ${message.trim()} — ${hint}`);
  }
}
