import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { openWrit } from '../src/writ.js';
import { createSoakHome } from '../bench/soak/home.js';
import { snapshot, stateChanges } from '../bench/soak/state.js';

const SCRIPT = fileURLToPath(new URL('../bench/soak.js', import.meta.url));

const FIELDS = [
  'bench', 'requests', 'seconds', 'rps', 'by_status', 'by_code', 'status_5xx', 'state_changes', 'ledger_bytes_added', 'ledger_records_added',
  'ledger_bytes_per_refused_request', 'rss_before_mb', 'rss_after_mb', 'durability',
];

/** Runs the soak script as `npm run soak` does and returns its exit code, stdout and stderr. */
function soak(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the hostile soak (bench/soak.ts)', () => {
  it('sends a few thousand hostile requests and prints one JSON line with every field; no answer is a 5xx and nothing changes', async () => {
    const run = await soak(['--requests', '2000', '--concurrency', '8', '--seed', '7']);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1, run.stdout);
    const out = JSON.parse(lines[0]) as Record<string, any>;
    for (const f of FIELDS) assert.ok(f in out, `field ${f} is missing from ${lines[0]}`);
    assert.equal(out.bench, 'soak');
    assert.equal(out.requests, 2000);
    assert.equal(Object.values(out.by_status as Record<string, number>).reduce((a, b) => a + b, 0), 2000);
    assert.equal(out.status_5xx, 0, `5xx answers: ${run.stderr.split('\n').filter((l) => l.includes(' for ')).join('\n')}`);
    assert.equal(out.state_changes, 0, 'a hostile request changed an entity or added an OK record');
    // Every kind of attack was sent, and the hostile commands were refused for the reasons they carry.
    for (const code of ['BAD_SIGNATURE', 'KEY_REVOKED', 'UNKNOWN_KEY', 'STALE_TIMESTAMP', 'NONCE_REPLAY', 'IDEMPOTENCY_KEY_REUSED', 'INVALID_ENVELOPE', 'UNAUTHENTICATED']) {
      assert.ok(out.by_code[code] > 0, `no ${code} among ${JSON.stringify(out.by_code)}`);
    }
    // Nothing private is served to a caller without the right identity, and no operator action runs for one.
    const ok = (kind: string) => Object.entries((out.by_kind[kind] ?? {}) as Record<string, number>).filter(([s]) => s.startsWith('2')).reduce((a, [, n]) => a + n, 0);
    for (const kind of ['read-envelopes', 'operator-post', 'cross-tenant', 'bearer', 'unsigned']) assert.equal(ok(kind), 0, `${kind} got 2xx answers: ${JSON.stringify(out.by_kind[kind])}`);
    // Refusals are bounded by rate limits and field bounds: a refused request costs the ledger little on average.
    assert.ok(out.ledger_bytes_per_refused_request < 2048, `ledger bytes per refused request: ${out.ledger_bytes_per_refused_request}`);
    assert.ok(out.rss_after_mb > 0 && out.rss_before_mb > 0);
    assert.match(out.durability, /sqlite/);
    // The exit code follows the two conditions the soak must meet.
    assert.equal(run.code, out.status_5xx > 0 || out.state_changes > 0 ? 1 : 0);
  });

  it('counts an accepted command as state changes (its entity and its OK record) and a refused one as none', async () => {
    const home = await createSoakHome();
    const writ = await openWrit(loadConfig(home.home));
    try {
      const before = snapshot(home.dbPath);
      const send = async (signer: typeof home.admin) => {
        const { envelope } = signEnvelope({ action: 'UpsertProduct', payload: { sku: 'soak-check', name: 'x', price: { amount: 1, currency: 'EUR' } } }, signer, { tenant: home.tenant });
        return (await writ.pipeline.submit({ body: Buffer.from(JSON.stringify(envelope)), receivedAt: Date.now() })).httpStatus;
      };
      assert.equal(await send(home.nobody), 403);
      assert.equal(stateChanges(before, snapshot(home.dbPath)), 0);
      assert.equal(await send(home.admin), 200);
      // One new entity and one more OK record.
      assert.equal(stateChanges(before, snapshot(home.dbPath)), 2);
    } finally {
      await writ.close();
      home.dispose();
    }
  });
});
