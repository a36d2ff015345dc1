import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Code } from '../src/core/codes.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, httpPost, ledgerSize, product } from './support/stage-helpers.js';

/**
 * Intake (DESIGN §2): the body is parsed defensively and the envelope's shape checked before
 * anything else. Every failure here is unauthenticated, so it is answered and counted, never stored.
 */

interface Case {
  readonly description: string;
  readonly body: string | Buffer;
  readonly expect: Code;
}

/** Inserts `insert` right after the first occurrence of `anchor` in `text`. */
function insertAfter(text: string, anchor: string, insert: string): string {
  const i = text.indexOf(anchor);
  assert.ok(i >= 0, `anchor ${anchor} not found`);
  return text.slice(0, i + anchor.length) + insert + text.slice(i + anchor.length);
}

function nested(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

/** Malformed bodies built from a valid signed envelope, each expected to fail at intake. */
function malformed(valid: Record<string, any>): Case[] {
  const text = JSON.stringify(valid);
  const withField = (field: string, value: string) => insertAfter(text, '{', `"${field}":${value},`);
  const inPayload = (insert: string) => insertAfter(text, '"payload":{', insert);
  const replaced = (key: string, value: string) => JSON.stringify({ ...valid, [key]: JSON.parse(value) });
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
  const bad = (description: string, body: string | Buffer): Case => ({ description, body, expect: 'INVALID_ENVELOPE' });
  return [
    bad('a duplicate top-level key', withField('action', '"UpsertProduct"')),
    bad('a duplicate key inside the payload', inPayload('"sku":"other",')),
    bad('a duplicate key spelled with a \\u escape', inPayload('"\\u0073ku":"other",')),
    bad('a top-level __proto__ key', withField('__proto__', '{"admin":true}')),
    bad('a __proto__ key inside the payload', inPayload('"__proto__":{"admin":true},')),
    bad('a constructor key inside the payload', inPayload('"constructor":{"prototype":{}},')),
    bad('a prototype key inside the payload', inPayload('"prototype":1,')),
    bad('the non-finite number 1e400', inPayload('"n":1e400,')),
    bad('the non-finite number -1e400', inPayload('"n":-1e400,')),
    bad('the integer 2^53 + 1, which JSON.parse would round', inPayload('"n":9007199254740993,')),
    bad('the integer -(2^53 + 1)', inPayload('"n":-9007199254740993,')),
    bad('the integer 2^53, which 2^53 + 1 rounds to', inPayload('"n":9007199254740992,')),
    bad('a twenty-digit integer', inPayload('"n":12345678901234567890,')),
    bad('an unknown top-level field', withField('extra', '1')),
    bad('an unknown field inside the signature', JSON.stringify({ ...valid, signature: { ...valid.signature, kid: 'x' } })),
    bad('nesting deeper than intake.maxDepth (32)', inPayload(`"deep":${nested(40)},`)),
    bad('invalid UTF-8 (a 0xff byte)', bytes(text.slice(0, text.length - 2), [0xff], text.slice(text.length - 2))),
    bad('an overlong UTF-8 encoding of "/"', bytes(inPayload('"s":"'), [0xc0, 0xaf], '",')),
    bad('a surrogate encoded as UTF-8 bytes (CESU-8)', bytes(inPayload('"s":"'), [0xed, 0xa0, 0x80], '",')),
    bad('a lone high surrogate escape', inPayload('"s":"\\ud800",')),
    bad('a lone low surrogate escape', inPayload('"s":"\\udc00",')),
    bad('a reversed surrogate pair', inPayload('"s":"\\udc00\\ud800",')),
    bad('a lone surrogate in a key', inPayload('"\\ud83d":1,')),
    bad('"v" as a string', replaced('v', '"1"')),
    bad('"v" of another version', replaced('v', '2')),
    bad('"action" as a number', replaced('action', '5')),
    bad('"requestId" as a number', replaced('requestId', '123456789')),
    bad('a "requestId" that is too short', replaced('requestId', '"short"')),
    bad('"nonce" as null', replaced('nonce', 'null')),
    bad('"timestamp" that is not RFC 3339', replaced('timestamp', '"yesterday"')),
    bad('"expectedVersion" as a string', replaced('expectedVersion', '"3"')),
    bad('a negative "expectedVersion"', replaced('expectedVersion', '-1')),
    bad('a fractional "expectedVersion"', replaced('expectedVersion', '1.5')),
    bad('"payload" as an array', replaced('payload', '[]')),
    bad('"payload" as null', replaced('payload', 'null')),
    bad('"signature" as a string', replaced('signature', '"sig"')),
    bad('an unknown "signature.alg"', JSON.stringify({ ...valid, signature: { ...valid.signature, alg: 'rs256' } })),
    bad('a missing "action"', JSON.stringify({ ...valid, action: undefined })),
    bad('a top-level array', JSON.stringify([valid])),
    bad('a top-level string', JSON.stringify(text)),
    bad('the literal null', 'null'),
    bad('data after the JSON value', text + ' {}'),
    bad('a truncated document', text.slice(0, text.length - 1)),
    bad('single-quoted strings', `{'v':1}`),
    bad('a body of whitespace only', '   \n '),
  ];
}

describeEachBackend('intake', (backend) => {
  let h: Harness;
  let base: string;
  let valid: Record<string, any>;
  before(async () => {
    h = await startHarness({}, { backend });
    base = await h.listen();
    valid = h.sign('UpsertProduct', product('intake-1'));
  });
  after(() => h.close());

  it('accepts the well-formed envelope the rejection cases are built from', async () => {
    assertOk(await h.post(h.sign('UpsertProduct', product('intake-0'))));
  });

  it('rejects each malformed body with INVALID_ENVELOPE 400 over inject()', async (t) => {
    for (const c of malformed(valid)) {
      await t.test(`rejects ${c.description}`, async () => {
        const res = await h.post(c.body);
        assertError(res, c.expect, c.description);
        assert.equal(res.body.commandHash, null, c.description);
      });
    }
  });

  it('rejects each malformed body with INVALID_ENVELOPE 400 over a real socket', async (t) => {
    for (const c of malformed(valid)) {
      await t.test(`rejects ${c.description}`, async () => {
        assertError(await httpPost(base, c.body), c.expect, `${c.description} (socket)`);
      });
    }
  });

  it('rejects an empty body with INVALID_ENVELOPE 400 over inject() and a real socket', async () => {
    assertError(await h.post(''), 'INVALID_ENVELOPE');
    assertError(await httpPost(base, ''), 'INVALID_ENVELOPE', 'socket');
    const noType = await h.app.inject({ method: 'POST', url: '/v1/commands' });
    assertError({ status: noType.statusCode, body: JSON.parse(noType.body) }, 'INVALID_ENVELOPE', 'no content type');
  });

  it('accepts the largest safe integer, 2^53 - 1', async () => {
    const body = assertOk(await h.post(h.sign('UpsertProduct', { ...product('safe-int'), price: { amount: 2 ** 53 - 1, currency: 'EUR' } })));
    assert.equal(body.status, 'OK');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/safe-int`)).body.doc.price.amount, 2 ** 53 - 1);
  });

  it('echoes the requestId of a rejected body when one can be read from it', async () => {
    const res = await h.post(insertAfter(JSON.stringify(valid), '{', '"extra":1,'));
    assertError(res, 'INVALID_ENVELOPE');
    assert.equal(res.body.requestId, valid.requestId);
    assert.match(res.body.message, /extra/);
  });

  it('names the offending place in the message', async () => {
    const res = await h.post(insertAfter(JSON.stringify(valid), '"payload":{', '"sku":"x",'));
    assert.match(res.body.message, /duplicate key "sku"/);
    const big = await h.post(insertAfter(JSON.stringify(valid), '"payload":{', '"n":9007199254740993,'));
    assert.match(big.body.message, /2\^53/);
  });

  it('keeps no ledger record, outcome, nonce or state for rejected bodies, and counts them', async () => {
    const size = await ledgerSize(h);
    const counted = h.writ.pipeline.counters.unauthenticated;
    const cases = malformed(valid);
    for (const c of cases) await h.post(c.body);
    assert.equal(await ledgerSize(h), size);
    assert.equal(h.writ.pipeline.counters.unauthenticated, counted + cases.length);
    assert.equal(await h.writ.store.getOutcome(h.tenant, 'admin', valid.requestId), null);
    assert.equal(await h.writ.store.getNonce(h.tenant, 'admin', valid.nonce), null);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/intake-1`)).status, 404);
    assert.equal((await h.get(`/v1/commands/${h.tenant}/${valid.requestId}`)).status, 404);
  });

  it('still accepts the original envelope after all those rejections', async () => {
    assertOk(await h.post(valid));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/intake-1`)).body.version, 1);
  });

  it('rejects a body over the default 256 KiB limit with PAYLOAD_TOO_LARGE 413 over inject() and a real socket', async () => {
    const size = await ledgerSize(h);
    const huge = h.sign('UpsertProduct', { ...product('huge'), description: 'x'.repeat(300 * 1024) });
    assertError(await h.post(huge), 'PAYLOAD_TOO_LARGE');
    assertError(await httpPost(base, JSON.stringify(huge)), 'PAYLOAD_TOO_LARGE', 'socket');
    assert.equal(await ledgerSize(h), size);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/huge`)).status, 404);
  });

  it('applies the size limit in the pipeline too, for transports without a body limit of their own', async () => {
    const reply = await h.writ.pipeline.submit({ body: Buffer.alloc(h.writ.config.intake.maxBytes + 1, 0x20), receivedAt: Date.now() });
    assertError({ status: reply.httpStatus, body: JSON.parse(reply.body) }, 'PAYLOAD_TOO_LARGE');
  });
});

describeEachBackend('intake with small configured limits', (backend) => {
  const maxBytes = 2048;
  let h: Harness;
  let base: string;
  before(async () => {
    h = await startHarness({ intake: { maxBytes, maxDepth: 3 } }, { backend });
    base = await h.listen();
  });
  after(() => h.close());

  it('accepts a body of exactly intake.maxBytes bytes', async () => {
    const text = JSON.stringify(h.sign('UpsertProduct', product('exact')));
    assert.ok(text.length < maxBytes);
    // Whitespace after the value is valid JSON and does not change the canonical bytes.
    const padded = text + ' '.repeat(maxBytes - Buffer.byteLength(text));
    assert.equal(Buffer.byteLength(padded), maxBytes);
    assertOk(await h.post(padded));
  });

  it('rejects a body of intake.maxBytes + 1 bytes with PAYLOAD_TOO_LARGE 413 over inject() and a real socket', async () => {
    const text = JSON.stringify(h.sign('UpsertProduct', product('over')));
    const padded = text + ' '.repeat(maxBytes + 1 - Buffer.byteLength(text));
    const size = await ledgerSize(h);
    assertError(await h.post(padded), 'PAYLOAD_TOO_LARGE');
    assertError(await httpPost(base, padded), 'PAYLOAD_TOO_LARGE', 'socket');
    assert.equal(await ledgerSize(h), size);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/over`)).status, 404);
  });

  it('accepts nesting of exactly intake.maxDepth levels', async () => {
    // envelope (1) → payload (2) → price (3)
    assertOk(await h.post(h.sign('UpsertProduct', product('depth-3'))));
  });

  it('rejects nesting one level deeper than intake.maxDepth with INVALID_ENVELOPE 400 over inject() and a real socket', async () => {
    const deep = h.sign('UpsertProduct', { ...product('depth-4'), price: { amount: 1, currency: 'EUR', extra: {} } });
    const size = await ledgerSize(h);
    const res = await h.post(deep);
    assertError(res, 'INVALID_ENVELOPE');
    assert.match(res.body.message, /nesting deeper than 3/);
    assertError(await httpPost(base, JSON.stringify(deep)), 'INVALID_ENVELOPE', 'socket');
    assert.equal(await ledgerSize(h), size);
  });

  it('counts an over-size body in the unauthenticated metric', async () => {
    const counted = h.writ.pipeline.counters.unauthenticated;
    await h.post(' '.repeat(maxBytes + 1));
    assert.equal(h.writ.pipeline.counters.unauthenticated, counted + 1);
  });
});
