import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WritError } from '../../core/errors.js';

/** A git command that ran and failed; `message` carries git's own explanation (its stderr). */
export class GitCommandError extends Error {
  constructor(readonly args: readonly string[], readonly exitCode: number | null, readonly stderr: string) {
    // Name the subcommand only: the options carry paths and -c settings that add nothing here.
    const command = args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? '';
    super(`git ${command} failed: ${stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' ') || `exit ${exitCode}`}`);
    this.name = 'GitCommandError';
  }
}

// Variables that would point git at another repository, work tree or index than the one named by
// --git-dir (they are set, for example, when writ runs inside a git hook).
const REPOSITORY_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE'];

function gitEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of REPOSITORY_ENV) delete env[name];
  // A push must fail, not wait for a password nobody will type.
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

export interface GitRunOptions {
  /** Bytes written to git's stdin, then closed. */
  readonly input?: Buffer | string;
  /** Kills git after this long (network pushes); none by default. */
  readonly timeoutMs?: number;
}

/**
 * Runs `git <args>` with an argument array (never through a shell) and resolves with its stdout.
 * Rejects with GitCommandError when git fails, and with UNAVAILABLE naming what to install when
 * git is not on PATH.
 */
export function runGit(args: readonly string[], options: GitRunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    // git may exit before reading all its input; the exit code then tells what happened.
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new WritError('UNAVAILABLE', 'the git anchor needs the git command, which is not on PATH: install git 2.36 or later (e.g. `apt-get install git`), or remove anchors.git from the configuration', { cause: e })
          : e,
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new GitCommandError(args, code, Buffer.concat(err).toString('utf8') || (signal ? `killed by ${signal}` : '')));
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Parses the output of `git cat-file --batch`: per request a header `<oid> <type> <size>` and that
 * many bytes, or `<request> missing`. Returns the contents in request order, null for missing.
 */
export function parseCatFileBatch(out: Buffer): (Buffer | null)[] {
  const objects: (Buffer | null)[] = [];
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) throw new Error('git cat-file output ended inside a header');
    const header = out.toString('utf8', at, eol);
    at = eol + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
      objects.push(null);
      continue;
    }
    const size = Number(header.slice(header.lastIndexOf(' ') + 1));
    if (!Number.isSafeInteger(size) || at + size > out.length) throw new Error(`git cat-file output is truncated after "${header}"`);
    objects.push(out.subarray(at, at + size));
    at += size + 1; // the content is followed by a newline
  }
  return objects;
}

/**
 * The git directory to use at `path`: a new bare repository when the folder is missing or empty,
 * `path/.git` for a repository with a work tree, else `path` itself when it is a bare repository.
 */
export async function openRepository(path: string): Promise<string> {
  let entries: string[] | null;
  try {
    entries = await readdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new WritError('UNAVAILABLE', `cannot open the git anchor at ${path}: ${(err as Error).message}; point anchors.git.path at a folder writ may write`, { cause: err });
    entries = null;
  }
  if (entries === null || entries.length === 0) {
    await mkdir(path, { recursive: true });
    await runGit(['-c', 'init.defaultBranch=main', 'init', '--bare', '--quiet', path]);
    return path;
  }
  const gitDir = entries.includes('.git') ? join(path, '.git') : path;
  try {
    await runGit([`--git-dir=${gitDir}`, 'rev-parse', '--git-dir']);
  } catch (err) {
    if (!(err instanceof GitCommandError)) throw err;
    throw new WritError('UNAVAILABLE', `${path} exists but is not a git repository; point anchors.git.path at a missing or empty folder (writ creates a bare repository there) or at an existing repository`, { cause: err });
  }
  return gitDir;
}

/**
 * `-c` options that make git fsync what it writes before it exits, so that a checkpoint is durable
 * when the commands return. git 2.36 and later (core.fsync) fsync objects, packs and ref files;
 * older git can only be told to fsync object files, so a ref update may be lost on power failure.
 */
export async function durabilityConfig(): Promise<string[]> {
  const version = /(\d+)\.(\d+)/.exec((await runGit(['--version'])).toString('utf8'));
  const [major, minor] = version ? [Number(version[1]), Number(version[2])] : [0, 0];
  return major > 2 || (major === 2 && minor >= 36) ? ['-c', 'core.fsync=objects,reference'] : ['-c', 'core.fsyncObjectFiles=true'];
}

/**
 * Copies the repository at `path` (bare, or with a work tree) to a new bare repository `dest` with
 * every ref and the objects they reach: a consistent copy even while an anchor publishes, since
 * refs only ever move (atomically, by update-ref) to objects already written. `--no-local` copies
 * the objects instead of hard-linking them, so the copy shares nothing with the original.
 */
export async function mirrorRepository(path: string, dest: string): Promise<void> {
  const gitDir = await openRepository(path);
  await runGit(['clone', '--mirror', '--no-local', '--quiet', gitDir, dest]);
  // The copy must not point back at the repository it came from (a push would reach it).
  await runGit([`--git-dir=${dest}`, 'remote', 'remove', 'origin']);
}
