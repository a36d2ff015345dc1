import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { newSigner } from './support/harness.js';
import { describePostgres, dropDatabase, freshDatabase } from './support/backends.js';
import { runWrit } from './support/cli.js';
import { acknowledge, checkLedger, checkpointCovers, leaseHolder, pidOf, post, product, sharedHomes, type Sent } from './support/pg-processes.js';
import { ServerProcess } from './support/robustness.js';

/**
 * Three real `writ serve` processes on one PostgreSQL database (docs/deploy.md): under concurrent
 * load from many clients every acknowledged command is applied exactly once, each log stays dense
 * and chained, one requestId sent to two processes at once is applied once, and when the checkpoint
 * signer is killed with SIGKILL another process takes over signing.
 */
describePostgres('several writ processes on one PostgreSQL database', () => {
  let url: string;
  let homes: string[] = [];
  let procs: ServerProcess[] = [];
  let admin: Signer;
  let tenant: string;
  const acknowledged: string[] = [];

  before(async () => {
    url = await freshDatabase();
    const shared = await sharedHomes(url, 2, { limits: { rate: 100_000_000, windowSeconds: 60 }, ledger: { checkpointIntervalMs: 200 } });
    ({ homes, admin, tenant } = shared);
    // A busy machine (2 cores shared) can take tens of seconds to start three writs at once.
    procs = await Promise.all(homes.map((h) => ServerProcess.start(h, 180_000)));
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    if (url) await dropDatabase(url);
  });

  const send = (envelope: Record<string, any>, to: () => ServerProcess): Promise<Sent> => acknowledge(envelope, to, acknowledged);

  it('applies every acknowledged command exactly once under load from 24 clients spread over three processes, the logs dense and writ verify clean', async () => {
    const CLIENTS = 24;
    const EACH = 20;
    const live = () => procs[Math.floor(Math.random() * procs.length)]!;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let n = 0; n < EACH; n++) await send(product(admin, tenant, `sku-${(c * EACH + n) % 37}`, n), live);
      }),
    );
    const all = await checkLedger(url, acknowledged);
    const commerce = all.filter((e) => e.scroll === 'commerce');
    assert.equal(commerce.length, CLIENTS * EACH);
    await checkpointCovers(url, tenant, 'commerce', commerce.length);
    const verify = await runWrit(['--home', homes[0]!, 'verify', '--no-progress']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(JSON.parse(verify.stdout).ok, true);
  });

  it('applies one requestId sent to two processes at once exactly once, the other answering the stored outcome', async () => {
    for (let i = 0; i < 20; i++) {
      const envelope = product(admin, tenant, `pair-${i}`, i);
      const [a, b] = await Promise.all([send(envelope, () => procs[0]!), send(envelope, () => procs[1]!)]);
      assert.deepEqual(a.body.receipt, b.body.receipt, 'both answers name the same record');
    }
    await checkLedger(url, acknowledged);
  });

  it('refuses on one process a key revoked through another, even when the first has not written since', async () => {
    const signer = newSigner('kim#1');
    const sign = (action: string, payload: Record<string, unknown>, by: Signer) => signEnvelope({ action, payload }, by, { tenant }).envelope as unknown as Record<string, any>;
    await send(sign('writ.RegisterKey', { actor: 'kim', keyId: signer.keyId, alg: 'ed25519', publicKey: signer.publicPem }, admin), () => procs[0]!);
    await send(sign('AssignRole', { actor: 'kim', role: 'editor' }, admin), () => procs[0]!);
    // procs[1] learns of kim's key within a second (it polls the registry's epoch): kim's command there is applied.
    const first = product(signer, tenant, 'kim-1', 1);
    for (let tries = 0; ; tries++) {
      const sent = await post(procs[1]!.url, first);
      if (sent.status === 200) break;
      assert.ok(sent.body?.code === 'UNKNOWN_KEY' && tries < 100, JSON.stringify(sent.body));
      await new Promise((r) => setTimeout(r, 100));
    }
    await send(sign('writ.RevokeKey', { keyId: signer.keyId, reason: 'laptop stolen' }, admin), () => procs[0]!);
    // procs[1] has not written since: it authenticates with its old registry, and must still refuse.
    const after = await post(procs[1]!.url, product(signer, tenant, 'kim-2', 2));
    assert.equal(after.status, 401, JSON.stringify(after.body));
    assert.equal(after.body.code, 'KEY_REVOKED');
  });

  it('refuses on one process a role revoked through another, even when the first has not heard of it yet', async () => {
    const signer = newSigner('lou#1');
    const sign = (action: string, payload: Record<string, unknown>, by: Signer) => signEnvelope({ action, payload }, by, { tenant }).envelope as unknown as Record<string, any>;
    await send(sign('writ.RegisterKey', { actor: 'lou', keyId: signer.keyId, alg: 'ed25519', publicKey: signer.publicPem }, admin), () => procs[0]!);
    await send(sign('AssignRole', { actor: 'lou', role: 'editor' }, admin), () => procs[0]!);
    // procs[1] learns of lou's key and role within a second: lou's command there is applied.
    for (let tries = 0; ; tries++) {
      const sent = await post(procs[1]!.url, product(signer, tenant, `lou-${tries}`, tries));
      if (sent.status === 200) break;
      assert.ok(['UNKNOWN_KEY', 'FORBIDDEN'].includes(sent.body?.code) && tries < 100, JSON.stringify(sent.body));
      await new Promise((r) => setTimeout(r, 100));
    }
    await send(sign('RevokeRole', { actor: 'lou', role: 'editor' }, admin), () => procs[0]!);
    // At once, before procs[1] polls the registry: it authorizes with lou's old roles, and the write
    // turn (which reloads what another process changed) must still refuse the command.
    const after = await post(procs[1]!.url, product(signer, tenant, 'lou-after', 1000));
    assert.equal(after.status, 403, JSON.stringify(after.body));
    assert.equal(after.body.code, 'FORBIDDEN');
  });

  it('hands checkpoint signing to another process within seconds when the signer is killed with SIGKILL', async () => {
    const signer = pidOf(await leaseHolder(url, 'signer'));
    const victim = procs.find((p) => p.child.pid === signer);
    assert.ok(victim, `the signer (${signer}) is none of the three processes`);
    await victim.kill();
    procs = procs.filter((p) => p !== victim);
    for (let n = 0; n < 30; n++) await send(product(admin, tenant, `after-kill-${n}`, n), () => procs[n % procs.length]!);
    const all = await checkLedger(url, acknowledged);
    await checkpointCovers(url, tenant, 'commerce', all.filter((e) => e.scroll === 'commerce').length);
    const successor = pidOf(await leaseHolder(url, 'signer'));
    assert.ok(successor !== null && successor !== signer && procs.some((p) => p.child.pid === successor), `the signer is now ${successor}`);
    const verify = await runWrit(['--home', homes[0]!, 'verify', '--no-progress']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
