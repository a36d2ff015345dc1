import type { ActionDef } from '../catalog/types.js';
import type { Envelope, PartialEnvelope } from '../core/envelope.js';
import type { Code } from '../core/codes.js';
import type { HoldRequest } from '../approvals/pending.js';
import type { ApprovalRequirement } from '../policy/requirement.js';
import type { StoredOutcome } from '../store/port.js';

/** What a transport hands to the pipeline. */
export interface Submission {
  /** The raw request body: the envelope's JSON bytes. */
  readonly body: Uint8Array;
  /** A bearer token (`Authorization: Bearer …`), when the transport carried one. */
  readonly bearer?: string;
  /** Milliseconds since the epoch when the transport received it. */
  readonly receivedAt: number;
  /**
   * The tenant whose route carried the command (a NATS subject `<prefix>.<tenant>`), when the
   * transport routes by tenant: the authenticated envelope MUST name the same one (TENANT_MISMATCH).
   */
  readonly tenant?: string;
}

/** The state of one command as it passes the stages; each stage fills in its part. */
export interface CommandContext {
  readonly submission: Submission;
  envelope: Envelope;
  /** RFC 8785 bytes of the envelope without its signature: what is signed and hashed. */
  canonical: Buffer;
  commandHash: string;
  /** Filled by authenticate. */
  /** `held`: a command released from approval, run from the envelope stored when it was held; `replay`: a stored command re-run by the ledger replay. */
  auth: { method: 'signature' | 'jwt' | 'stored' | 'system' | 'held' | 'replay'; keyId: string | null; sigDigest: string | null };
  /** The stored outcome for (tenant, actor, requestId), looked up once by authenticate. */
  prior: StoredOutcome | null;
  /** Set by freshness when the nonce was checked and must be persisted with the outcome. */
  nonceChecked: boolean;
  /** True when this context holds the in-flight claim on its idempotency key. */
  ownsKey: boolean;
  /** True once the command took its token from its actor's rate limit (limits/limits.ts `charge`). */
  charged?: boolean;
  action?: ActionDef;
  target?: { type: string; id: string };
  roles: readonly string[];
  /** Set by authorize: what policy asks before the command may run; null when it may run outright. */
  approval?: ApprovalRequirement | null;
  /** Set by the approval stage: the command is held as PENDING under this approval, not applied. */
  hold?: HoldRequest;
}

/** The intake result before authentication has completed the identity fields. */
export interface Intake {
  readonly envelope: PartialEnvelope;
  readonly canonical: Buffer;
  readonly commandHash: string;
  /**
   * A signature check done alongside intake (IntakePool), with the SHA-256 of the key bytes it used.
   * Authenticate takes it only when those are the bytes of the key its own registry holds.
   */
  readonly verified?: { readonly keyDigest: string; readonly ok: boolean };
}

/** The answer shape of DESIGN §3. */
export interface Answer {
  readonly status: 'OK' | 'PENDING_APPROVAL' | 'ERROR';
  readonly code?: Code;
  readonly message?: string;
  readonly requestId: string | null;
  readonly commandHash: string | null;
  readonly result?: unknown;
  readonly receipt?: Receipt;
  readonly details?: Readonly<Record<string, unknown>>;
  /** PENDING_APPROVAL: `{id, requirement, expiresAt}`; a held command's final answer: `{id, status}`. */
  readonly approval?: Readonly<Record<string, unknown>>;
}

/** Where the command's record sits; the full .tlog-proof comes once a checkpoint covers it. */
export interface Receipt {
  readonly log: string;
  readonly index: number;
  readonly leafHash: string;
}

export interface Reply {
  readonly httpStatus: number;
  /** The answer as JSON text: stored responses are replayed byte for byte. */
  readonly body: string;
  readonly replayed: boolean;
  readonly retryAfter?: number;
  /** The error code of a refusal answered now (a replayed answer carries its code in `body` only). */
  readonly code?: Code;
}
