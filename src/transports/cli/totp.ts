import { hostname } from 'node:os';
import type { Command } from 'commander';
import { renderUnicodeCompact } from 'uqr';
import { codeSpec } from '../../core/codes.js';
import { loadTotpSecret, provisionTotpSecret, totpSecretPath, TotpSecretError } from '../../approvals/totp-secret.js';
import { matchWindow, normaliseCode, otpauthUri, TOTP_PERIOD_SECONDS, TOTP_SKEW_WINDOWS, windowAt, type TotpSecretInput } from '../../approvals/totp.js';
import { CliError, configOf, globals } from './context.js';

/** How far `writ totp check` looks for a code, in windows on each side (±5 minutes). */
export const CHECK_RANGE_WINDOWS = 10;

export interface CodeDiagnosis {
  /** True when the airlock would accept the code now (within ±1 window). */
  readonly accepted: boolean;
  /** Matched window minus the server's current window; null when nothing within the range matched. */
  readonly offset: number | null;
  readonly serverWindow: number;
  readonly message: string;
}

/**
 * Where a code stands against the server's clock, without spending anything: the window it
 * matches within ±CHECK_RANGE_WINDOWS, and what that says about the authenticator's clock.
 */
export function diagnoseCode(secret: TotpSecretInput, code: string, nowMs: number): CodeDiagnosis {
  const serverWindow = windowAt(nowMs);
  const matched = matchWindow(secret, code, nowMs, CHECK_RANGE_WINDOWS);
  if (matched === null) {
    const message = `the code matches no window within ±${CHECK_RANGE_WINDOWS} (±${CHECK_RANGE_WINDOWS * TOTP_PERIOD_SECONDS} s) of the server's window ${serverWindow}: the authenticator does not hold this home's secret (add it again from \`writ totp provision --qr\`), or a clock is off by more than ${CHECK_RANGE_WINDOWS * TOTP_PERIOD_SECONDS / 60} minutes`;
    return { accepted: false, offset: null, serverWindow, message };
  }
  const offset = matched - serverWindow;
  const accepted = Math.abs(offset) <= TOTP_SKEW_WINDOWS;
  if (offset === 0) return { accepted, offset, serverWindow, message: `the code matches the current window (${serverWindow}); the airlock accepts it` };
  const drift = `your authenticator is ~${Math.abs(offset) * TOTP_PERIOD_SECONDS} s ${offset < 0 ? 'behind' : 'ahead'}`;
  const verdict = accepted
    ? `the airlock accepts it (±${TOTP_SKEW_WINDOWS} window), but set the clock right before the drift grows`
    : `the airlock accepts only ±${TOTP_SKEW_WINDOWS} window, so it would refuse this code: set the authenticator's or the server's clock right (NTP)`;
  return { accepted, offset, serverWindow, message: `the code matches window ${offset > 0 ? '+' : ''}${offset} (${drift}); ${verdict}` };
}

function secretError(err: unknown): never {
  if (err instanceof TotpSecretError) throw new CliError(err.message, 2);
  throw err;
}

/** A QR code of `text` for a terminal, two rows of modules per line. */
function terminalQr(text: string, colour: boolean): string {
  const lines = renderUnicodeCompact(text, { border: 2 }).split('\n');
  // uqr draws the light modules with (half) blocks in the foreground colour and leaves the dark ones
  // blank, which suits a dark theme only; on a terminal, pin white on black so any theme scans.
  return lines.map((line) => (colour ? `\x1b[97;40m${line}\x1b[0m` : line)).join('\n') + '\n';
}

/** `writ totp provision` and `writ totp check`: the airlock's TOTP secret, on the server's home. */
export function registerTotpCommands(program: Command): void {
  const totp = program.command('totp').description("the airlock's TOTP secret (RFC 6238): provision an authenticator, diagnose its clock");

  totp
    .command('provision')
    .description('create the TOTP secret if missing and print its otpauth:// URI for an authenticator (it holds the secret: show it only to the operator)')
    .option('--qr', 'also print the URI as a QR code to scan')
    .option('--account <name>', 'account name the authenticator shows', hostname())
    .option('--issuer <name>', 'issuer name the authenticator shows', 'writ')
    .action((opts: { qr?: boolean; account: string; issuer: string }, cmd: Command) => {
      const config = configOf(globals(cmd));
      const path = totpSecretPath(config);
      let provisioned: ReturnType<typeof provisionTotpSecret>;
      try {
        provisioned = provisionTotpSecret(path);
      } catch (err) {
        secretError(err);
      }
      let uri: string;
      try {
        uri = otpauthUri({ issuer: opts.issuer, account: opts.account, secret: provisioned.secret });
      } catch (err) {
        throw new CliError(`${(err as Error).message}; choose another --issuer or --account`, 2);
      }
      process.stderr.write(
        `${provisioned.created ? 'created the TOTP secret' : 'using the existing TOTP secret'} ${path} (mode 0600); ` +
          `add it to an authenticator${opts.qr ? ' by scanning the code below' : ' from the URI below (or run with --qr)'}, then try a code with \`writ totp check CODE\`\n`,
      );
      process.stdout.write(uri + '\n');
      if (opts.qr) process.stdout.write(terminalQr(uri, process.stdout.isTTY === true));
    });

  totp
    .command('check')
    .description(`say which window a code matches within ±${CHECK_RANGE_WINDOWS} (clock skew), consuming nothing; exits non-zero when the airlock would refuse it`)
    .argument('<code>', 'the 6 digits the authenticator shows now')
    .action((code: string, _opts: unknown, cmd: Command) => {
      if (normaliseCode(code) === null) throw new CliError('CODE must be the 6 digits the authenticator shows', 2);
      const config = configOf(globals(cmd));
      let secret: TotpSecretInput;
      try {
        secret = loadTotpSecret(totpSecretPath(config));
      } catch (err) {
        secretError(err);
      }
      const diagnosis = diagnoseCode(secret, code, Date.now());
      process.stdout.write(diagnosis.message + '\n');
      if (!diagnosis.accepted) process.exitCode = codeSpec('TOTP_INVALID').exit;
    });
}
