import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CODES } from '../src/core/codes.js';
import { runWrit } from './support/cli.js';
import { call, httpClient, startMcpHome, stdioClient, type McpHome } from './support/mcp.js';

/**
 * The runs pack over MCP (docs/mcp.md): a runner's agent (`writ mcp` over stdio, its own key) starts
 * a run and completes its stages; sealing takes a run lead (an agent on /mcp with a bearer JWT), as
 * for `writ run seal`; the receipt the tool gives verifies the outputs offline with `writ run
 * verify`, which names a tampered file.
 */
describe('runs over MCP', () => {
  const contract = JSON.parse(readFileSync(join('examples', 'run-contract.json'), 'utf8')) as { id: string; stages: Array<{ id: string }> };
  const runId = contract.id;
  const scratch = mkdtempSync(join(tmpdir(), 'writ-mcp-runs-'));
  const outputs = join(scratch, 'outputs');
  let m: McpHome;
  let rita: Client;
  let lee: Client;
  let nobody: Client;

  const ok = async (client: Client, tool: string, args: Record<string, unknown> = {}) => {
    const r = await call(client, tool, args);
    assert.equal(r.isError, false, `${tool}: ${r.text}`);
    return r.value;
  };
  const refused = async (client: Client, tool: string, args: Record<string, unknown>, code: keyof typeof CODES) => {
    const r = await call(client, tool, args);
    assert.equal(r.isError, true, `${tool} should be refused: ${r.text}`);
    assert.match(r.text, new RegExp(code), r.text);
    return r;
  };
  function put(path: string, text: string): { name: string; size: number; sha256: string } {
    const file = join(outputs, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return { name: path.split('/').slice(1).join('/'), size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
  }

  before(async () => {
    m = await startMcpHome();
    const ritaKey = await m.agent('rita', ['runner']);
    await m.agent('lee', ['run-lead']);
    await m.agent('nora', []);
    rita = await stdioClient(m, ritaKey);
    lee = await httpClient(m, await m.token('lee'));
    nobody = await httpClient(m, await m.token('nora'));
  });
  after(async () => {
    await rita?.close();
    await lee?.close();
    await nobody?.close();
    await m?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lists the run tools with the pack\'s own payload schemas', async () => {
    const { tools } = await rita.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['run_start', 'run_next', 'run_complete_stage', 'run_abort', 'run_seal', 'run_show', 'run_receipt']) assert.ok(names.includes(n), n);
    const complete = tools.find((t) => t.name === 'run_complete_stage')!;
    assert.deepEqual([...(complete.inputSchema.required as string[])].sort(), ['outcome', 'outputs', 'runId', 'stageId']);
  });

  it('refuses a run to an agent whose actor holds no runs role, as the CLI is', async () => {
    await refused(nobody, 'run_start', { contract }, 'FORBIDDEN');
  });

  it('starts a run from the example contract and names its first stage as next', async () => {
    const started = await ok(rita, 'run_start', { contract });
    assert.match(started.receipt.log, /\/runs-drills$/);
    const next = await ok(rita, 'run_next', { runId });
    assert.equal(next.next.id, 'recon');
    assert.equal(next.next.position, 1);
  });

  it('refuses a stage out of order and arguments outside the pack\'s schema before sending anything', async () => {
    await refused(rita, 'run_complete_stage', { runId, stageId: 'triage', outcome: 'passed', outputs: [] }, 'INVALID_STATE');
    await refused(rita, 'run_complete_stage', { runId, stageId: 'recon', outcome: 'passed', outputs: [], extra: 1 }, 'INVALID_PAYLOAD');
  });

  it('completes every stage with its manifest; a runner may not seal, a run lead may', async () => {
    const manifests: Record<string, unknown[]> = {
      recon: [put('recon/inventory.yaml', 'devices:\n  - cam-01\n'), put('recon/notes/findings.md', '# Findings\n')],
      'ot-mapping': [put('ot-mapping/map.txt', 'plc-01 <- bridge <- cam-01\n')],
      triage: [],
    };
    for (const stage of contract.stages) await ok(rita, 'run_complete_stage', { runId, stageId: stage.id, outcome: 'passed', outputs: manifests[stage.id] });
    assert.equal((await ok(rita, 'run_next', { runId })).next, null);
    await refused(rita, 'run_seal', { runId }, 'FORBIDDEN');
    await ok(lee, 'run_seal', { runId });
    const shown = await ok(lee, 'run_show', { runId });
    assert.equal(shown.status, 'sealed');
    assert.match(shown.record.scroll, /^runs-drills$/);
  });

  it('gives a run receipt that `writ run verify` accepts for the outputs, and that names a tampered file', async () => {
    const { receipt } = await ok(lee, 'run_receipt', { runId });
    const receiptFile = join(scratch, 'run.receipt');
    writeFileSync(receiptFile, receipt);
    const vkey = m.h.init.verifierKey;
    const good = await runWrit(['run', 'verify', outputs, '--receipt', receiptFile, '--vkey', vkey]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    writeFileSync(join(outputs, 'ot-mapping', 'map.txt'), 'plc-01 <- bridge <- cam-02\n');
    const bad = await runWrit(['run', 'verify', outputs, '--receipt', receiptFile, '--vkey', vkey]);
    assert.equal(bad.code, CODES.RUN_OUTPUTS_MISMATCH.exit, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /changed: ot-mapping\/map\.txt/);
  });

  it('aborts a second run, and refuses a receipt for a run that is not sealed', async () => {
    await ok(rita, 'run_start', { contract: { ...contract, id: 'drill-aborted' } });
    await ok(rita, 'run_abort', { runId: 'drill-aborted', reason: 'lab down' });
    assert.equal((await ok(rita, 'run_show', { runId: 'drill-aborted' })).status, 'aborted');
    await refused(lee, 'run_receipt', { runId: 'drill-aborted' }, 'INVALID_STATE');
  });

  it('reads a run only as the entity route lets the actor read it', async () => {
    const route = await m.h.getAs(`/v1/entities/${m.h.tenant}/run/${runId}`, null);
    assert.equal(route.status, 401);
    const r = await call(nobody, 'run_show', { runId });
    const direct = await m.h.app.inject({ method: 'GET', url: `/v1/entities/${m.h.tenant}/run/${runId}`, headers: { authorization: `Bearer ${await m.token('nora')}` } });
    assert.equal(r.isError, direct.statusCode !== 200, `${r.text} / ${direct.body}`);
  });
});
