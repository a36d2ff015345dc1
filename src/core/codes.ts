/**
 * The one error registry (DESIGN §3). Every answer writ gives carries at most one of these codes;
 * the HTTP status, CLI exit code and MCP error code are derived here and nowhere else.
 *
 * A test checks this table against docs/errors.md and the OpenAPI document in both directions.
 */
export interface CodeSpec {
  /** HTTP status of an answer carrying this code. */
  readonly http: number;
  /** Exit code of the `writ` CLI when a command ends with this code. */
  readonly exit: number;
  /** JSON-RPC error code an MCP transport answers with. */
  readonly mcp: number;
  /** True when the same request may succeed later unchanged (no idempotent response is stored). */
  readonly transient: boolean;
  /** What went wrong, and what to do next. */
  readonly hint: string;
}

export const CODES = {
  INVALID_ENVELOPE: { http: 400, exit: 10, mcp: -32602, transient: false, hint: 'The command envelope is malformed; fix the field named in the message and sign again.' },
  PAYLOAD_TOO_LARGE: { http: 413, exit: 11, mcp: -32602, transient: false, hint: 'The request body exceeds the size limit; send a smaller payload.' },
  TENANT_MISMATCH: { http: 400, exit: 14, mcp: -32602, transient: false, hint: "The command arrived on another tenant's route (the NATS subject names one tenant, the envelope another); publish it on <subjectPrefix>.<the envelope's tenant>." },
  UNKNOWN_ACTION: { http: 400, exit: 12, mcp: -32601, transient: false, hint: 'No such action in the catalog; GET /v1/actions lists them.' },
  INVALID_PAYLOAD: { http: 400, exit: 13, mcp: -32602, transient: false, hint: "The payload does not match the action's JSON Schema; see details.errors." },
  UNAUTHENTICATED: { http: 401, exit: 20, mcp: -32001, transient: false, hint: 'No accepted credential was presented; sign the envelope or send a bearer token as configured in auth.require; for a read, send a fresh read token (Authorization: WritSig) or a bearer JWT.' },
  BAD_SIGNATURE: { http: 401, exit: 21, mcp: -32001, transient: false, hint: 'The signature does not verify over the canonical bytes; sign the exact envelope you send.' },
  UNKNOWN_KEY: { http: 401, exit: 22, mcp: -32001, transient: false, hint: 'The keyId is not registered for this tenant and actor; register it with `writ keys new`.' },
  KEY_REVOKED: { http: 401, exit: 23, mcp: -32001, transient: false, hint: 'The key is revoked or outside its validity period; use another key.' },
  STALE_TIMESTAMP: { http: 401, exit: 24, mcp: -32001, transient: false, hint: "The envelope's timestamp is outside the allowed clock skew; check the clock and sign again." },
  NONCE_REPLAY: { http: 409, exit: 25, mcp: -32002, transient: false, hint: 'This nonce was already used by this actor; sign a new envelope with a fresh nonce.' },
  IDEMPOTENCY_KEY_REUSED: { http: 422, exit: 26, mcp: -32002, transient: false, hint: 'This requestId was already used for a different command; use a new requestId.' },
  IDEMPOTENCY_IN_PROGRESS: { http: 409, exit: 27, mcp: -32002, transient: true, hint: 'A command with this requestId is still being processed; retry shortly.' },
  VERSION_CONFLICT: { http: 409, exit: 30, mcp: -32003, transient: false, hint: 'The entity changed since you read it; read details.current, then resubmit with a new requestId.' },
  FORBIDDEN: { http: 403, exit: 31, mcp: -32004, transient: false, hint: "Policy does not allow this actor to run this action or read this data (or the data is another tenant's); ask an admin for the needed role." },
  BLOCKED: { http: 403, exit: 32, mcp: -32004, transient: false, hint: 'This actor or tenant is blocked; an admin can lift it with writ.SetFlag.' },
  READONLY: { http: 403, exit: 33, mcp: -32004, transient: false, hint: 'This actor or tenant is read-only; an admin can lift it with writ.SetFlag.' },
  RATE_LIMITED: { http: 429, exit: 34, mcp: -32005, transient: true, hint: 'Too many commands from this actor; retry after the Retry-After seconds.' },
  NOT_FOUND: { http: 404, exit: 40, mcp: -32006, transient: false, hint: 'Nothing exists at this address; check tenant, type and id.' },
  INVALID_STATE: { http: 409, exit: 41, mcp: -32003, transient: false, hint: 'The entity is not in a state that allows this action; read it and adjust the command.' },
  APPROVAL_EXPIRED: { http: 410, exit: 42, mcp: -32003, transient: false, hint: 'The approval request expired; submit the command again.' },
  APPROVAL_REJECTED: { http: 403, exit: 48, mcp: -32004, transient: false, hint: 'An approver (or the requester) rejected the command while it waited for approval; address the reason given, then submit it again with a new requestId.' },
  APPROVAL_MISMATCH: { http: 409, exit: 49, mcp: -32003, transient: false, hint: 'The decision names another commandHash than the pending command has; read the command (GET /v1/approvals/{id}) and decide on exactly that one.' },
  SELF_APPROVAL: { http: 403, exit: 43, mcp: -32004, transient: false, hint: 'Nobody decides alone on a command they requested or that grants them something (approve, break the glass, close its review); ask another approver.' },
  TOTP_INVALID: { http: 401, exit: 44, mcp: -32001, transient: false, hint: 'The one-time code is wrong; check that the authenticator clock is right and use the current code.' },
  TOTP_REPLAY: { http: 409, exit: 45, mcp: -32002, transient: false, hint: 'This code window was already used; wait for the next code.' },
  REVIEW_FLOOR_NOT_MET: { http: 425, exit: 46, mcp: -32003, transient: true, hint: 'The review period has not passed yet; land the command later.' },
  RECEIPT_PENDING: { http: 409, exit: 47, mcp: -32008, transient: true, hint: 'The record is logged but no signed checkpoint covers it yet; retry in a second, or ask with ?wait=true.' },
  PROOF_INVALID: { http: 422, exit: 60, mcp: -32602, transient: false, hint: 'A Merkle proof, signed note, checkpoint or receipt did not verify; the message names what failed. Do not trust the data.' },
  LEDGER_INCONSISTENT: { http: 500, exit: 61, mcp: -32603, transient: false, hint: 'The ledger does not match its hashes, tree, checkpoints or anchors; the message names the first bad index. Restore from a trusted copy and investigate.' },
  WITNESS_BAD_REQUEST: { http: 400, exit: 62, mcp: -32602, transient: false, hint: 'The add-checkpoint request is malformed (see the message); send old size, proof lines, a blank line and the signed checkpoint.' },
  WITNESS_UNTRUSTED: { http: 403, exit: 63, mcp: -32004, transient: false, hint: "No signature on the checkpoint verifies with a log key this witness trusts; add the log's verifier key to the witness configuration." },
  WITNESS_UNKNOWN_LOG: { http: 404, exit: 64, mcp: -32006, transient: false, hint: 'This witness does not follow the log with this origin; add it to the witness configuration.' },
  WITNESS_CONFLICT: { http: 409, exit: 65, mcp: -32003, transient: false, hint: 'The old size does not match the checkpoint this witness last cosigned (the body says its size), or the same size came with another root.' },
  OTP_INVALID: { http: 401, exit: 80, mcp: -32001, transient: false, hint: 'The one-time code does not match the one issued (or none was issued); each wrong code uses one of its few attempts. Check the code, or issue a new one with IssueOtp.' },
  OTP_EXPIRED: { http: 410, exit: 81, mcp: -32003, transient: false, hint: 'The one-time code passed its TTL or used up its attempts; issue a new one with IssueOtp.' },
  OTP_USED: { http: 409, exit: 82, mcp: -32002, transient: false, hint: 'The one-time code was already exchanged for a token; a code works once. Issue a new one with IssueOtp.' },
  RUN_OUTPUTS_MISMATCH: { http: 422, exit: 66, mcp: -32602, transient: false, hint: "The folder's files differ from the sealed run's manifests (the report names each missing, extra, resized or changed file); restore the outputs as sealed, or do not trust them." },
  ROLLBACK_OF_ROLLBACK: { http: 409, exit: 67, mcp: -32003, transient: false, hint: 'The op named is itself a rollback, and a rollback is not rolled back; submit the operation you want as a new op (writ ops submit).' },
  POLICY_INVALID: { http: 422, exit: 68, mcp: -32602, transient: false, hint: 'The policy files of the home do not load (each problem is in details.problems, by file and line); the policy set in force stays. Fix the files, check them with `writ policy check`, and reload again.' },
  UNAVAILABLE: { http: 503, exit: 50, mcp: -32007, transient: true, hint: 'writ is overloaded or shutting down; retry after the Retry-After seconds.' },
  INTERNAL: { http: 500, exit: 70, mcp: -32603, transient: true, hint: 'writ hit an unexpected error; the command was not applied. Retry, and report it if it persists.' },
} as const satisfies Record<string, CodeSpec>;

export type Code = keyof typeof CODES;

/**
 * Exit code of the `writ` CLI when a command is held for approval (HTTP 202, status
 * PENDING_APPROVAL): neither done (0) nor refused (a code's exit); it runs once approved.
 */
export const PENDING_EXIT = 3;

export const ALL_CODES = Object.freeze(Object.keys(CODES) as Code[]);

export function isCode(value: unknown): value is Code {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CODES, value);
}

/**
 * Pushback: refusals about load or timing, not about the command (Tessera's ErrPushback). They are
 * answered with their code and Retry-After and counted in `GET /healthz` (`pushback`), but never
 * recorded: a key holder retrying into them would otherwise grow the ledger at will. The other
 * transient codes are recorded: REVIEW_FLOOR_NOT_MET and INTERNAL come from planning a command that
 * was charged to its actor's rate limit and say something about that command; RECEIPT_PENDING
 * answers reads only.
 */
export const PUSHBACK_CODES = ['IDEMPOTENCY_IN_PROGRESS', 'RATE_LIMITED', 'UNAVAILABLE'] as const satisfies readonly Code[];
export type PushbackCode = (typeof PUSHBACK_CODES)[number];

export function isPushback(code: Code): code is PushbackCode {
  return (PUSHBACK_CODES as readonly Code[]).includes(code);
}

export function codeSpec(code: Code): CodeSpec {
  return CODES[code];
}
