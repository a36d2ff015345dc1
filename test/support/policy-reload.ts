import { createHash } from 'node:crypto';
import type { Harness } from './harness.js';
import type { Signer } from '../../src/sdk/sign.js';

/** POST /v1/policy/reload as `signer` (the home's admin by default), as `writ policy reload` sends it. */
export function reloadPolicy(h: Harness, signer: Signer | null = h.admin) {
  return h.getAs('/v1/policy/reload', signer, { method: 'POST' });
}

/** The records of the home tenant's `writ` log (what an auditor reads). */
export async function writRecords(h: Harness): Promise<any[]> {
  const res = await h.get(`/v1/ledger/${h.tenant}/writ/records?limit=1000`);
  if (res.status !== 200) throw new Error(`reading the writ log: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.records.map((r: any) => r.record);
}

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
