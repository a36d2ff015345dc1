import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { loadCatalog, type Catalog } from '../src/catalog/catalog.js';
import { BUILTIN_PACKS } from '../src/packs/index.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { buildOpenApi } from '../src/transports/http/openapi.js';
import { builtinPacksDir } from '../src/writ.js';
import { OpenApiChecker } from './support/openapi-check.js';
import { startHarness } from './support/harness.js';
import { Validator } from '@seriousme/openapi-schema-validator';

/**
 * The OpenAPI document as a whole (the route-by-route answers are checked against it in
 * test/reads-routes.test.ts): every reference resolves, the envelope is told apart by action with
 * each payload linked to its action's schema, and the answer headers and credentials are declared.
 */
describe('the OpenAPI document', () => {
  let doc: any;
  let catalog: Catalog;
  let checker: OpenApiChecker;
  before(async () => {
    catalog = await loadCatalog([builtinPacksDir()], BUILTIN_PACKS);
    doc = buildOpenApi(catalog);
    checker = new OpenApiChecker(doc);
  });

  it('resolves every $ref it contains', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    assert.ok(refs.length > 50, `only ${refs.length} references found`);
    const unresolved = refs.filter((r) => r.replace(/^#\//, '').split('/').reduce((at: any, k) => at?.[k], doc) === undefined);
    assert.deepEqual([...new Set(unresolved)], []);
  });

  it('tells envelopes apart by action, one Envelope.<action> per action of the catalog, each linking its Payload.<action>', () => {
    const names = catalog.actions().map((a) => a.name).sort();
    const envelope = doc.components.schemas.Envelope;
    assert.equal(envelope.discriminator.propertyName, 'action');
    assert.deepEqual(Object.keys(envelope.discriminator.mapping).sort(), names);
    assert.deepEqual(envelope.oneOf.map((r: { $ref: string }) => r.$ref).sort(), names.map((n) => `#/components/schemas/Envelope.${n}`).sort());
    for (const n of names) assert.deepEqual(doc.components.schemas[`Envelope.${n}`].allOf[1].properties.payload, { $ref: `#/components/schemas/Payload.${n}` }, n);
  });

  it("accepts a signed envelope whose payload fits its action's schema, and refuses one whose payload fits only another action's", () => {
    const validate = checker.validator({ $ref: '#/components/schemas/Envelope' });
    const signer = { key: { alg: 'ed25519' as const, key: generateKeyPairSync('ed25519').privateKey }, keyId: 'alice#1' };
    const product = { sku: 'tea', name: 'Tea', price: { amount: 450, currency: 'EUR' } };
    const good = signEnvelope({ action: 'UpsertProduct', payload: product }, signer, { tenant: 'acme' }).envelope;
    assert.ok(validate(JSON.parse(JSON.stringify(good))), JSON.stringify(validate.errors));
    const bad = signEnvelope({ action: 'writ.RegisterKey', payload: product }, signer, { tenant: 'acme' }).envelope;
    assert.equal(catalog.get('writ.RegisterKey') !== undefined, true, 'the catalog has writ.RegisterKey');
    assert.equal(validate(JSON.parse(JSON.stringify(bad))), false);
  });

  it('declares the answer headers, Retry-After on every 429 and 503, and the two read credentials', () => {
    assert.deepEqual(Object.keys(doc.components.headers).sort(), ['IdempotentReplayed', 'RetryAfter', 'WritCommandStatus']);
    assert.ok(doc.paths['/v1/commands'].post.responses['200'].headers['Idempotent-Replayed']);
    assert.ok(doc.paths['/v1/commands/{tenant}/{requestId}'].get.responses['200'].headers['Writ-Command-Status']);
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        for (const status of ['429', '503']) {
          if (op.responses?.[status]) assert.ok(op.responses[status].headers?.['Retry-After'], `${method} ${path} ${status} lacks Retry-After`);
        }
      }
    }
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: doc.components.securitySchemes.bearer.description });
    assert.equal(doc.components.securitySchemes.writSig.scheme, 'WritSig');
  });
});

describe('the OpenAPI document a server serves', () => {
  it('is valid OpenAPI 3.1 by an independent validator (the official 3.1 JSON Schema, @seriousme/openapi-schema-validator)', async () => {
    const h = await startHarness();
    try {
      const served = await h.get('/openapi.json');
      assert.equal(served.status, 200);
      const validator = new Validator();
      const result = await validator.validate(served.body);
      assert.equal(validator.version, '3.1');
      assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors ?? []).slice(0, 2000));
      assert.equal(result.valid, true);
    } finally {
      await h.close();
    }
  });

  it('is refused by that validator once broken, so the check above can fail', async () => {
    const h = await startHarness();
    try {
      const doc = structuredClone((await h.get('/openapi.json')).body);
      doc.paths['/v1/commands'].post.responses = { '200': { content: {} } };
      const result = await new Validator().validate(doc);
      assert.equal(result.valid, false);
    } finally {
      await h.close();
    }
  });
});
