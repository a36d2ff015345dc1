import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import type { PolicySource } from './sources.js';

/**
 * Every policy text, read from disk now: each pack's policies.cedar, then the deployment's
 * policies/*.cedar. Each is named by what it is, not where it lies, so that answers and the ledger
 * never carry this machine's paths: `packs/<pack>/policies.cedar` (pack names are unique) and
 * `policies/<file>`. A pack's file is read again rather than taken from the catalog, so that a
 * reload (docs/policy.md, "Reloading") sees a pack's edited policies as it sees the home's.
 */
export function policySources(catalog: Pick<Catalog, 'packs'>, policiesDir: string): PolicySource[] {
  const sources: PolicySource[] = [];
  for (const p of catalog.packs) {
    const path = join(p.dir, 'policies.cedar');
    const text = existsSync(path) ? readFileSync(path, 'utf8') : p.policies;
    if (text.trim() !== '') sources.push({ source: `packs/${p.name}/policies.cedar`, path, text });
  }
  if (existsSync(policiesDir)) {
    for (const f of readdirSync(policiesDir).sort()) {
      if (f.endsWith('.cedar')) sources.push({ source: `policies/${f}`, path: join(policiesDir, f), text: readFileSync(join(policiesDir, f), 'utf8') });
    }
  }
  return sources;
}
