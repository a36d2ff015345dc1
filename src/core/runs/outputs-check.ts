import type { SealDocument } from './seal.js';

/** A file found in the folder being checked: its path relative to the folder, `/`-separated. */
export interface FoundFile {
  readonly path: string;
  readonly size: number;
}

/** What differs between a folder and a sealed run's manifests; every list names paths. */
export interface OutputsReport {
  checked: number;
  readonly missing: string[];
  readonly extra: string[];
  readonly resized: Array<{ readonly path: string; readonly expected: number; readonly actual: number }>;
  readonly changed: Array<{ readonly path: string; readonly expected: string; readonly actual: string }>;
}

/** Where each output of a sealed run must be: `<stage id>/<name>` under the folder (docs/runs.md). */
export function expectedFiles(doc: SealDocument): Map<string, { readonly size: number; readonly sha256: string }> {
  const out = new Map<string, { size: number; sha256: string }>();
  for (const stage of doc.stages) for (const o of stage.outputs) out.set(`${stage.id}/${o.name}`, { size: o.size, sha256: o.sha256 });
  return out;
}

export function isClean(r: OutputsReport): boolean {
  return r.missing.length + r.extra.length + r.resized.length + r.changed.length === 0;
}

/**
 * Compares the files of a folder with the sealed manifests: a file the manifests name but the
 * folder lacks is missing, one the folder has but no manifest names is extra, one of another size
 * is resized, one of the right size whose SHA-256 differs is changed. `hash` is called only for
 * files of the right size, so a resized file is never read.
 */
export async function checkOutputs(doc: SealDocument, found: readonly FoundFile[], hash: (path: string) => Promise<string>): Promise<OutputsReport> {
  const expected = expectedFiles(doc);
  const report: OutputsReport = { checked: 0, missing: [], extra: [], resized: [], changed: [] };
  const seen = new Set<string>();
  for (const f of [...found].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const want = expected.get(f.path);
    if (!want) {
      report.extra.push(f.path);
      continue;
    }
    seen.add(f.path);
    if (f.size !== want.size) {
      report.resized.push({ path: f.path, expected: want.size, actual: f.size });
      continue;
    }
    const actual = await hash(f.path);
    report.checked++;
    if (actual !== want.sha256) report.changed.push({ path: f.path, expected: want.sha256, actual });
  }
  for (const path of [...expected.keys()].sort()) if (!seen.has(path)) report.missing.push(path);
  return report;
}
