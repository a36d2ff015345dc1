import type { Signer } from '../../src/sdk/sign.js';
import { newSigner, rid, type Harness } from './harness.js';

/**
 * Registers `actor` with an Ed25519 key and `roles` in `tenant` on writ's own authority (as
 * `writ init` bootstraps a home's first admin), so a test can stand up a second tenant.
 */
export async function actorIn(h: Harness, tenant: string, actor: string, roles: readonly string[] = []): Promise<Signer> {
  const signer = newSigner(`${actor}#1`);
  const steps: Array<[string, Record<string, unknown>]> = [
    ['writ.RegisterKey', { actor, keyId: signer.keyId, alg: 'ed25519', publicKey: signer.publicPem }],
    ...roles.map((role): [string, Record<string, unknown>] => ['AssignRole', { actor, role }]),
  ];
  for (const [action, payload] of steps) {
    const reply = await h.writ.pipeline.system(tenant, action, payload, rid());
    if (reply.httpStatus !== 200) throw new Error(`${action} for ${actor} in ${tenant}: ${reply.body}`);
  }
  return signer;
}
