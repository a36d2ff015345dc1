/**
 * Why a PostgreSQL store cannot be opened. These are start-up refusals (`writ serve`, `writ migrate`),
 * never answers to a command, so they are not codes of the answer registry (src/core/codes.ts): the
 * CLI prints the message, which says what to do, and exits 2. Messages never carry a password: the
 * connection string is shown through redactUrl.
 */
export type StoreOpenCode =
  /** The connection string is not a postgres:// URL writ can use. */
  | 'STORE_URL_INVALID'
  /** The server could not be reached, refused the login, or the database does not exist. */
  | 'STORE_UNREACHABLE'
  /** The database only reads (a standby, or default_transaction_read_only = on). */
  | 'STORE_READ_ONLY'
  /** The database was migrated by a newer writ than this one. */
  | 'STORE_SCHEMA_NEWER'
  /** The database's schema is older than this writ and migrations were not allowed to run. */
  | 'STORE_SCHEMA_OLDER';

export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';

  constructor(
    readonly code: StoreOpenCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
