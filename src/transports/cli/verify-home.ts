import type { Config } from '../../config/config.js';
import { parseVerifierKey } from '../../core/tlog/index.js';
import type { AnchoredCheckpoint } from '../../ledger/anchors/anchor.js';
import { GitAnchor } from '../../ledger/anchors/git-anchor.js';
import { NdjsonAnchor } from '../../ledger/anchors/ndjson-anchor.js';
import { nodeHasher } from '../../ledger/node-hasher.js';
import { originOf } from '../../ledger/record.js';
import { WitnessClient } from '../../ledger/witness-client.js';
import { verifyDeployment, type VerifyDeps, type VerifyReport } from '../../ledger/verify/deployment.js';
import type { LogStore, StoreLifecycle } from '../../store/port.js';
import { openStore } from '../../store/open-store.js';
import { asCliError } from './store-option.js';
import { openCatalog, openSigner } from '../../writ.js';
import { CliError } from './context.js';
import { progressBar } from './progress.js';
import { existsSync } from 'node:fs';

/** Records below which no progress bar is drawn (the run takes well under a second). */
const PROGRESS_FROM = 20_000;

/** One bar per phase of writ verify (the logs, the bodies, the replay, the answers). */
export function phasedProgress(enabled: boolean): (what: string, done: number, total: number) => void {
  const bars = new Map<string, (done: number, total: number) => void>();
  return (what, done, total) => {
    let bar = bars.get(what);
    if (!bar) bars.set(what, (bar = progressBar({ enabled, label: what, unit: 'records', from: PROGRESS_FROM })));
    bar(done, total);
  };
}

/**
 * `writ verify` on a home: reads the database directly (the server may be running; reads see
 * committed state) and every anchor the config names, and verifies the lot with the home's log key
 * (or `vkey`, to check a copy against a key obtained elsewhere); replays the ledger through the
 * home's packs (built-in and its own) to check the entity state.
 */
export async function verifyHome(config: Config, opts: { vkey?: string; progress: boolean }): Promise<VerifyReport> {
  if (config.store.kind === 'sqlite' && !existsSync(config.store.path)) throw new CliError(`no database at ${config.store.path}; nothing to verify`, 2);
  const logKey = opts.vkey ? parseVerifierKey(opts.vkey) : openSigner(config).verifierKey;
  const anchored: AnchoredCheckpoint[] = [];
  if (config.anchors.ndjson && existsSync(config.anchors.ndjson)) {
    const a = await NdjsonAnchor.open({ path: config.anchors.ndjson });
    anchored.push(...(await a.readAll()));
    await a.close();
  }
  if (config.anchors.git && existsSync(config.anchors.git.path)) {
    const a = await GitAnchor.open({ path: config.anchors.git.path });
    anchored.push(...(await a.readAll()));
    await a.close();
  }
  const store: VerifyDeps['store'] & Pick<StoreLifecycle, 'close'> = await openStore(config, { readOnly: true, command: 'writ verify' }).catch((err: unknown) => {
    throw asCliError(err);
  });
  try {
    const witnessed = await probeWitnesses(config, store);
    return await verifyDeployment({ store, originPrefix: config.ledger.originPrefix, logKey, hasher: nodeHasher, anchored, witnessed, state: await replayDeps(config), progress: phasedProgress(opts.progress) });
  } finally {
    await store.close();
  }
}

/** What replaying the home's ledger needs: its packs (built-in and its own) and its configured HMAC keys. */
export async function replayDeps(config: Config) {
  const catalog = await openCatalog(config);
  const configuredKey = (tenant: string, keyId: string) => config.auth.hmacKeys.find((k) => k.tenant === tenant && k.keyId === keyId);
  return { catalog, configuredKey };
}

/**
 * Asks every configured witness how far it has cosigned each log (without moving it forward), so a
 * database rolled back behind what a witness saw is caught even when no local anchor survived.
 * An unreachable witness is reported on stderr and skipped: it proves nothing either way.
 */
async function probeWitnesses(config: Config, store: Pick<LogStore, 'latestCheckpoints'>) {
  const out: Array<{ origin: string; size: number; sameRoot: boolean | null; where: string }> = [];
  if (config.witnesses.list.length === 0) return out;
  const clients = config.witnesses.list.map((w) => new WitnessClient({ ...w, timeoutMs: config.witnesses.timeoutMs }));
  for (const cp of await store.latestCheckpoints()) {
    const origin = originOf(config.ledger.originPrefix, cp.tenant, cp.scroll);
    for (const c of clients) {
      try {
        const seen = await c.probe(cp.note);
        out.push({ origin, ...seen, where: `${c.name} (${c.url})` });
      } catch (err) {
        process.stderr.write(`writ: witness ${c.name} could not be asked about ${origin}: ${(err as Error).message}\n`);
      }
    }
  }
  return out;
}
