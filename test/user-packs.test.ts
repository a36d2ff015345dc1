import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { loadConfig } from '../src/config/config.js';
import { WritClient } from '../src/sdk/client.js';
import { Policy } from '../src/policy/cedar.js';
import { packageRoot } from '../src/util/package-root.js';
import { openWrit, policySources } from '../src/writ.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * A deployment's own pack (DESIGN §4: built-in packs are examples of the same mechanism): actions in
 * YAML, a code handler in handlers.js, policies in Cedar, loaded from the home's packs/ folder. Its
 * handler also shows what a bug in a handler becomes: INTERNAL, recorded, nothing applied.
 */
describeEachBackend('a deployment pack', (backend) => {
  let h: Harness;
  let client: WritClient;
  before(async () => {
    h = await startHarness({}, { backend });
    const dir = join(h.home, 'packs', 'notes');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'actions.yaml'),
      [
        'pack: notes',
        'scroll: notes',
        'actions:',
        '  AddNote:',
        '    description: Add a note (code handler).',
        '    entity: note',
        '    id: "{noteId}"',
        '    effect: { handler: addNote }',
        '    event: note.added',
        '    payload: { type: object, additionalProperties: false, required: [noteId, text], properties: { noteId: { type: string, pattern: "^[a-z0-9-]{1,64}$" }, text: { type: string, maxLength: 1000 } } }',
        '  BrokenNote:',
        '    description: A handler with a bug.',
        '    entity: note',
        '    id: "{noteId}"',
        '    effect: { handler: broken }',
        '    event: note.broken',
        '    payload: { type: object, required: [noteId], properties: { noteId: { type: string, pattern: "^[a-z0-9-]{1,64}$" } } }',
        '  ClosedNote:',
        '    description: A handler that refuses with a typed code.',
        '    entity: note',
        '    id: "{noteId}"',
        '    effect: { handler: closed }',
        '    event: note.closed',
        '    payload: { type: object, required: [noteId], properties: { noteId: { type: string, pattern: "^[a-z0-9-]{1,64}$" } } }',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'handlers.js'),
      [
        // What a pack author writes as `import { HandlerRefusal } from 'writ/pack'`.
        `import { HandlerRefusal } from ${JSON.stringify(pathToFileURL(join(packageRoot(), 'dist', 'src', 'catalog', 'pack-api.js')).href)};`,
        'export function closed(ctx) {',
        "  throw new HandlerRefusal('INVALID_STATE', `notes are closed; ${ctx.payload.noteId} was not added`);",
        '}',
        'export function addNote(ctx) {',
        '  return { writes: [{ ...ctx.target, doc: { text: ctx.payload.text, by: ctx.envelope.actor } }], result: { noteId: ctx.payload.noteId } };',
        '}',
        'export function broken(ctx) {',
        '  return ctx.payload.missing.field;',
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'policies.cedar'), 'permit (principal in Writ::Role::"admin", action in Writ::Action::"pack:notes", resource);\n');
    await h.restart();
    client = new WritClient(await h.listen(), h.reader);
  });
  after(() => h.close());

  it('is loaded from the home: its action is listed, applied through its handler and logged in its scroll', async () => {
    const actions = await h.get('/v1/actions');
    assert.ok(actions.body.actions.some((a: { name: string }) => a.name === 'AddNote'));
    const res = await client.submit(h.sign('AddNote', { noteId: 'first', text: 'hello' }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.receipt.log, `writ.local/${h.tenant}/notes`);
    const note = await h.get(`/v1/entities/${h.tenant}/note/first`);
    assert.deepEqual(note.body.doc, { text: 'hello', by: 'admin' });
  });

  it('names its policies by the pack, as the built-in packs\' are, never by the home\'s path', () => {
    // The sources writ serves with (openWrit loads exactly these).
    const ids = Policy.load(policySources(h.writ.catalog, h.writ.config.policiesDir), { catalog: h.writ.catalog }).policies().map((p) => p.id);
    assert.ok(ids.includes('packs/notes/policies.cedar#0'), ids.join(', '));
    assert.ok(ids.includes('packs/access/policies.cedar#0'), ids.join(', '));
    assert.ok(ids.every((id) => /^(packs\/[a-z][a-z0-9-]*\/policies\.cedar|policies\/[^/]+\.cedar)#\d+$/.test(id)), ids.join(', '));
  });

  it('refuses to start beside a pack of the same name: the name is the pack\'s identity', async () => {
    const dir = join(h.home, 'packs', 'my-notes');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'actions.yaml'), ['pack: notes', 'scroll: notes', 'actions:', '  AddOtherNote:', '    description: Another note.', '    entity: note', '    id: "{noteId}"', '    effect: upsert', '    event: note.other', '    payload: { type: object, required: [noteId], properties: { noteId: { type: string } } }', ''].join('\n'));
    try {
      await assert.rejects(openWrit(loadConfig(h.home)), (err: Error) => {
        assert.match(err.message, /^two packs are named notes \(.*\/packs\/my-notes and .*\/packs\/notes\); rename one in its actions\.yaml$/);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses to start beside a pack that would give actors roles too: roles have one source, the access pack', async () => {
    const dir = join(h.home, 'packs', 'shadow-roles');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'actions.yaml'), ['pack: shadow', 'scroll: shadow', 'actions:', '  Touch:', '    description: A pack that only exists to give roles.', '    entity: touch', '    id: "{id}"', '    effect: upsert', '    event: touch.done', '    payload: { type: object, required: [id], properties: { id: { type: string, maxLength: 16 } } }', ''].join('\n'));
    writeFileSync(join(dir, 'pack.js'), "export default () => ({ roles: { type: 'touch', rolesOf: () => ['admin'] } });\n");
    try {
      await assert.rejects(openWrit(loadConfig(h.home)), /^Error: packs access and shadow both provide role documents; remove one$/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('answers and records the code of a HandlerRefusal (writ/pack) a handler throws, and applies nothing', async () => {
    const env = h.sign('ClosedNote', { noteId: 'late' });
    const res = await client.submit(env);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.code, 'INVALID_STATE');
    assert.equal(res.body.message, 'notes are closed; late was not added');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/note/late`)).status, 404);
    const record = (await h.writ.store.readLedger(h.tenant, 'notes', 0, 100)).find((r) => r.requestId === env.requestId);
    assert.equal(record?.outcome, 'REJECTED');
    assert.equal(record?.code, 'INVALID_STATE');
  });

  it('answers INTERNAL (500) for a handler that throws, records it, and applies nothing', async () => {
    for (const via of ['inject', 'socket'] as const) {
      const env = h.sign('BrokenNote', { noteId: `broken-${via}` });
      const res = via === 'inject' ? await h.post(env) : await client.submit(env);
      assert.equal(res.status, 500, `${via}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.status, 'ERROR');
      assert.equal(res.body.code, 'INTERNAL');
      assert.equal(res.body.message, 'internal error', 'no internal detail leaks into the answer');
      assert.equal((await h.get(`/v1/entities/${h.tenant}/note/broken-${via}`)).status, 404);
      const records = await h.writ.store.readLedger(h.tenant, 'notes', 0, 100);
      const record = records.find((r) => r.requestId === env.requestId);
      assert.ok(record, `${via}: the refusal is in the ledger`);
      assert.equal(record.outcome, 'REJECTED');
      assert.equal(record.code, 'INTERNAL');
    }
  });
});
