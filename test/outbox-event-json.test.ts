import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { eventJson } from '../src/outbox/sink.js';
import type { OutboxRow } from '../src/store/port.js';

/**
 * eventJson splices the stored `data` text into the event instead of parsing and re-encoding it; the
 * bytes must equal what stringifying the parsed event gives (the encoding sinks used before), for
 * data that JSON.stringify stored, awkward values included.
 */
const awkward: unknown[] = [
  null,
  0,
  -0,
  1e21,
  0.1 + 0.2,
  Number.MAX_SAFE_INTEGER + 2,
  'plain',
  'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f',
  'é ü 中文 😀 \u2028 \u2029',
  '\ud800 lone surrogate',
  [],
  {},
  { b: 1, a: 2, 10: 'x', 2: 'y', '-1': 'z', '01': 'w' },
  JSON.parse('{"__proto__": {"x": 1}, "k": [1, "2", null, true, {"n": -1.5e-7}]}'),
  { date: new Date(Date.UTC(2026, 0, 2)), undef: undefined, nested: { deep: [[[]]] } },
];

function row(data: unknown, over: Partial<OutboxRow> = {}): OutboxRow {
  return { seq: 7, id: '0193e0a0-0000-7000-8000-000000000001', tenant: 'acme.eu', scroll: 'commerce', index: 3, action: 'writ.Approve', target: 'product/sku "1"', version: 2, type: 'product.upserted', data, ts: '2026-12-04T10:00:00.123Z', ...over };
}

function parsedEncoding(e: OutboxRow): string {
  return JSON.stringify({ id: e.id, seq: e.seq, tenant: e.tenant, scroll: e.scroll, index: e.index, action: e.action, target: e.target, version: e.version, type: e.type, data: e.data, ts: e.ts });
}

describe('outbox: event JSON', () => {
  it('equals stringifying the parsed event for every awkward data value', () => {
    for (const value of awkward) {
      const stored = JSON.stringify(value);
      const parsed = row(JSON.parse(stored));
      assert.equal(eventJson({ ...parsed, data: stored }), parsedEncoding(parsed), `data ${stored}`);
    }
  });

  it('writes null target and version as null, like the parsed encoding', () => {
    const parsed = row({ a: 1 }, { target: null, version: null });
    assert.equal(eventJson({ ...parsed, data: '{"a":1}' }), parsedEncoding(parsed));
    assert.match(eventJson({ ...parsed, data: '{"a":1}' }), /"target":null,"version":null/);
  });
});
