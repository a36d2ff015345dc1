import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_OUTPUT_NAME, MAX_RUN_OUTPUTS, OUTPUT_NAME, type OutputEntry } from '../../core/runs/run-doc.js';
import type { FoundFile } from '../../core/runs/outputs-check.js';
import { CliError } from './context.js';

/** SHA-256 of a file, streamed (outputs may be large), lowercase hex. */
export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Every entry under `root`, as `/`-separated paths relative to it, without following symbolic
 * links: regular files with their sizes, and anything else (a link, a socket, a device) apart, so
 * that a link can never stand in for a sealed file. Stops past `limit` files.
 */
export function listFolder(root: string, limit = MAX_RUN_OUTPUTS + 1): { files: FoundFile[]; others: string[] } {
  const files: FoundFile[] = [];
  const others: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = lstatSync(join(dir, name));
      if (st.isDirectory()) walk(join(dir, name), rel);
      else if (st.isFile()) files.push({ path: rel, size: st.size });
      else others.push(rel);
      if (files.length + others.length > limit) throw new CliError(`${root} holds more than ${limit - 1} entries; a run has at most ${MAX_RUN_OUTPUTS} outputs`, 2);
    }
  };
  walk(root, '');
  return { files, others };
}

/** The outputs manifest of a stage's folder: every regular file, with its size and SHA-256. */
export async function manifestOf(dir: string): Promise<OutputEntry[]> {
  let listing;
  try {
    if (!lstatSync(dir).isDirectory()) throw new Error('not a folder');
    listing = listFolder(dir);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--outputs ${dir}: ${(err as Error).message}`, 2);
  }
  if (listing.others.length) throw new CliError(`--outputs ${dir} holds entries that are not regular files (${listing.others.slice(0, 5).join(', ')}); a manifest lists files only`, 2);
  const bad = listing.files.find((f) => f.path.length > MAX_OUTPUT_NAME || !OUTPUT_NAME.test(f.path));
  if (bad) throw new CliError(`--outputs ${dir}: ${JSON.stringify(bad.path)} cannot be an output name (components of [A-Za-z0-9._-], none beginning with ".", at most ${MAX_OUTPUT_NAME} characters)`, 2);
  const out: OutputEntry[] = [];
  for (const f of listing.files) out.push({ name: f.path, size: f.size, sha256: await hashFile(join(dir, f.path)) });
  return out;
}
