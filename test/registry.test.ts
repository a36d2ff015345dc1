import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { loadCatalog } from '../src/catalog/catalog.js';
import { ALL_CODES, CODES, PUSHBACK_CODES, isCode } from '../src/core/codes.js';
import { BUILTIN_PACKS } from '../src/packs/index.js';
import { buildOpenApi } from '../src/transports/http/openapi.js';
import { packageRoot } from '../src/util/package-root.js';
import { builtinPacksDir } from '../src/writ.js';

/**
 * The error registry (src/core/codes.ts) is the single source of codes (DESIGN §3); this suite
 * checks it in both directions against docs/errors.md and the generated OpenAPI document.
 */

interface DocRow {
  readonly code: string;
  readonly http: number;
  readonly exit: number;
  readonly meaning: string;
  readonly line: number;
}

const TABLE_HEADER = /^\|\s*CODE\s*\|\s*HTTP\s*\|\s*exit\s*\|\s*meaning \/ what to do\s*\|\s*$/;

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

/** The rows of the `| CODE | HTTP | exit | meaning / what to do |` table of docs/errors.md. */
function parseCodeTable(text: string): DocRow[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => TABLE_HEADER.test(l));
  assert.ok(start >= 0, 'docs/errors.md has no "| CODE | HTTP | exit | meaning / what to do |" table');
  assert.match(lines[start + 1] ?? '', /^\|(\s*:?-+:?\s*\|){4}\s*$/, 'the code table needs a separator row under its header');
  const rows: DocRow[] = [];
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const c = cells(lines[i]);
    assert.equal(c.length, 4, `docs/errors.md line ${i + 1} should have 4 cells: ${lines[i]}`);
    assert.match(c[1], /^\d{3}$/, `docs/errors.md line ${i + 1}: HTTP status must be three digits`);
    assert.match(c[2], /^\d+$/, `docs/errors.md line ${i + 1}: exit code must be a number`);
    rows.push({ code: unquote(c[0]), http: Number(c[1]), exit: Number(c[2]), meaning: c[3], line: i + 1 });
  }
  return rows;
}

/** The codes listed as bullets under a "## <heading>" of docs/errors.md. */
function parseCodeList(text: string, heading: string): string[] {
  const section = new RegExp(`^## ${heading}\\s*$([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(text);
  assert.ok(section, `docs/errors.md has no "## ${heading}" section`);
  return [...section[1].matchAll(/^- `([A-Z_]+)`\s*$/gm)].map((m) => m[1]);
}

function parseTransientList(text: string): string[] {
  return parseCodeList(text, 'Transient codes');
}

describe('the error registry', () => {
  it('holds each code once, with a distinct exit code and a hint', () => {
    assert.equal(new Set(ALL_CODES).size, ALL_CODES.length);
    const exits = ALL_CODES.map((c) => CODES[c].exit);
    assert.equal(new Set(exits).size, exits.length, 'two codes share an exit code');
    for (const code of ALL_CODES) {
      assert.match(code, /^[A-Z][A-Z_]*$/);
      assert.ok(CODES[code].http >= 400 && CODES[code].http <= 599, `${code} has a non-error HTTP status`);
      assert.ok(CODES[code].exit > 0 && CODES[code].exit < 126, `${code} has an exit code a shell cannot report`);
      assert.ok(CODES[code].hint.length > 0, `${code} has no hint`);
    }
  });

  describe('against docs/errors.md', () => {
    const text = readFileSync(join(packageRoot(), 'docs', 'errors.md'), 'utf8');
    const rows = parseCodeTable(text);
    const byCode = new Map(rows.map((r) => [r.code, r]));

    it('documents every code once', () => {
      assert.equal(byCode.size, rows.length, `a code is documented twice: ${rows.map((r) => r.code).join(', ')}`);
      const missing = ALL_CODES.filter((c) => !byCode.has(c));
      assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
    });

    it('documents only codes that exist', () => {
      const unknown = rows.filter((r) => !isCode(r.code)).map((r) => `${r.code} (line ${r.line})`);
      assert.deepEqual(unknown, [], `docs/errors.md documents codes the registry does not have: ${unknown.join(', ')}`);
    });

    it('gives each code the HTTP status and exit code of the registry, and says what to do', () => {
      for (const row of rows) {
        if (!isCode(row.code)) continue;
        assert.equal(row.http, CODES[row.code].http, `${row.code}: docs say HTTP ${row.http}, the registry ${CODES[row.code].http} (line ${row.line})`);
        assert.equal(row.exit, CODES[row.code].exit, `${row.code}: docs say exit ${row.exit}, the registry ${CODES[row.code].exit} (line ${row.line})`);
        assert.ok(row.meaning.length >= 20, `${row.code}: the meaning cell is too short to help (line ${row.line})`);
      }
    });

    it('lists exactly the transient codes as transient', () => {
      const documented = parseTransientList(text).sort();
      const transient = ALL_CODES.filter((c) => CODES[c].transient).sort();
      assert.deepEqual(documented, transient);
    });

    it('lists exactly the pushback codes, each of them transient', () => {
      assert.deepEqual(parseCodeList(text, 'Pushback').sort(), [...PUSHBACK_CODES].sort());
      for (const code of PUSHBACK_CODES) assert.equal(CODES[code].transient, true, code);
    });
  });

  describe('against the OpenAPI document', () => {
    let doc: any;
    before(async () => {
      doc = buildOpenApi(await loadCatalog([builtinPacksDir()], BUILTIN_PACKS));
    });

    it("enumerates exactly the registry's codes in Answer.code", () => {
      const codes: string[] = doc.components.schemas.Answer.properties.code.enum;
      assert.equal(new Set(codes).size, codes.length, 'Answer.code lists a code twice');
      assert.deepEqual([...codes].sort(), [...ALL_CODES].sort());
    });

    it('lists every code with its status and exit code in x-writ-errors, and nothing else', () => {
      const listed: Array<{ code: string; status: number; exit: number; hint: string }> = doc['x-writ-errors'];
      assert.deepEqual(
        listed.map((e) => e.code).sort(),
        [...ALL_CODES].sort(),
      );
      for (const e of listed) {
        assert.ok(isCode(e.code), `x-writ-errors lists unknown code ${e.code}`);
        assert.deepEqual({ status: e.status, exit: e.exit, hint: e.hint }, { status: CODES[e.code].http, exit: CODES[e.code].exit, hint: CODES[e.code].hint }, e.code);
      }
    });

    it("answers POST /v1/commands with every HTTP status of the registry, naming each status's codes", () => {
      const responses: Record<string, { description: string }> = doc.paths['/v1/commands'].post.responses;
      for (const code of ALL_CODES) {
        const response = responses[String(CODES[code].http)];
        assert.ok(response, `POST /v1/commands has no ${CODES[code].http} response for ${code}`);
        assert.ok(response.description.split(/[^A-Z_]+/).includes(code), `the ${CODES[code].http} response does not name ${code}: ${response.description}`);
      }
    });

    it('declares no error status on POST /v1/commands that the registry does not have', () => {
      const statuses = new Set(ALL_CODES.map((c) => String(CODES[c].http)));
      const extra = Object.keys(doc.paths['/v1/commands'].post.responses).filter((s) => Number(s) >= 400 && !statuses.has(s));
      assert.deepEqual(extra, []);
    });
  });
});
