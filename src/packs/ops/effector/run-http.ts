import type { HttpExecutor } from '../../../config/ops.js';
import { digestOf, StreamDigest } from './digest.js';
import type { Execution, OpRun } from './executor.js';
import { resolveValues } from './secrets.js';

/**
 * An HTTP call: the op as a JSON body, its idempotency key in `Idempotency-Key` (the IETF draft's
 * header), configured headers (secrets read from their files now). A 2xx answer is success; the
 * answer's body is digested as stdout.
 */
export async function runHttp(spec: HttpExecutor, run: OpRun): Promise<Execution> {
  const t0 = performance.now();
  const empty = digestOf('');
  const ms = () => Math.round(performance.now() - t0);
  try {
    const headers = { ...resolveValues(spec.headers, 'header'), 'content-type': 'application/json', 'idempotency-key': run.idempotencyKey };
    const res = await fetch(spec.url, { method: spec.method, headers, body: JSON.stringify(run), signal: AbortSignal.timeout(spec.timeoutMs), redirect: 'error' });
    const body = new StreamDigest();
    if (res.body) for await (const chunk of res.body) body.update(chunk as Uint8Array);
    const ok = res.status >= 200 && res.status < 300;
    return { ok, exitStatus: res.status, durationMs: ms(), stdout: body.done(), stderr: empty, error: ok ? null : `answered HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error;
    // The URL is the configuration's; the error names the failure, never a header's value.
    const why = e.name === 'TimeoutError' ? `timed out after ${spec.timeoutMs} ms` : `the call failed: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? e.message}`;
    return { ok: false, exitStatus: null, durationMs: ms(), stdout: empty, stderr: empty, error: why.slice(0, 500) };
  }
}
