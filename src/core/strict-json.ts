import { WritError } from './errors.js';

/**
 * A defensive JSON parser for attacker-controlled input (I-JSON, RFC 7493, plus writ's limits).
 * JSON.parse silently keeps the last of duplicate keys, turns 1e400 into Infinity, rounds integers
 * beyond 2^53 and accepts lone surrogates; each of those would let two parties read one envelope
 * differently, so each is rejected here with INVALID_ENVELOPE and a message naming the place.
 */
export interface StrictJsonLimits {
  /** Deepest allowed nesting of objects and arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * RFC 8259 §8.1: a JSON text MUST NOT begin with a byte order mark. TextDecoder would drop it
 * silently, but other parsers keep it or refuse it, so a signer and writ could disagree on the bytes.
 */
const BOM_REFUSED = 'body starts with a byte order mark (U+FEFF, bytes EF BB BF); send the JSON without it (RFC 8259 §8.1)';

export function parseStrictJson(input: string | Uint8Array, limits: StrictJsonLimits): unknown {
  let text: string;
  if (typeof input === 'string') {
    if (input.charCodeAt(0) === 0xfeff) throw invalid(BOM_REFUSED);
    text = input;
  } else {
    if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) throw invalid(BOM_REFUSED);
    try {
      text = decoder.decode(input);
    } catch {
      throw invalid('body is not valid UTF-8');
    }
  }
  return new Parser(text, limits.maxDepth).parseDocument();
}

function invalid(message: string): WritError {
  return new WritError('INVALID_ENVELOPE', message);
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string, private readonly maxDepth: number) {}

  parseDocument(): unknown {
    this.skipWs();
    const value = this.parseValue(1, '$');
    this.skipWs();
    if (this.pos !== this.text.length) throw this.fail('unexpected data after the JSON value');
    return value;
  }

  private fail(what: string): WritError {
    return invalid(`invalid JSON at offset ${this.pos}: ${what}`);
  }

  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private parseValue(depth: number, path: string): unknown {
    const c = this.text[this.pos];
    switch (c) {
      case '{': return this.parseObject(depth, path);
      case '[': return this.parseArray(depth, path);
      case '"': return this.parseString();
      case 't': return this.literal('true', true);
      case 'f': return this.literal('false', false);
      case 'n': return this.literal('null', null);
      case undefined: throw this.fail('unexpected end of input');
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber(path);
        throw this.fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    throw this.fail('invalid literal');
  }

  private enter(depth: number, path: string): void {
    if (depth > this.maxDepth) throw invalid(`nesting deeper than ${this.maxDepth} levels at ${path}`);
  }

  private parseObject(depth: number, path: string): Record<string, unknown> {
    this.enter(depth, path);
    this.pos++;
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') throw this.fail('expected a string key');
      const key = this.parseString();
      const keyPath = `${path}.${key}`;
      if (FORBIDDEN_KEYS.has(key)) throw invalid(`forbidden key ${JSON.stringify(key)} at ${path}`);
      if (seen.has(key)) throw invalid(`duplicate key ${JSON.stringify(key)} at ${path}`);
      seen.add(key);
      this.skipWs();
      if (this.text[this.pos] !== ':') throw this.fail('expected ":"');
      this.pos++;
      this.skipWs();
      out[key] = this.parseValue(depth + 1, keyPath);
      this.skipWs();
      const sep = this.text[this.pos++];
      if (sep === '}') return out;
      if (sep !== ',') throw this.fail('expected "," or "}"');
    }
  }

  private parseArray(depth: number, path: string): unknown[] {
    this.enter(depth, path);
    this.pos++;
    const out: unknown[] = [];
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.parseValue(depth + 1, `${path}[${out.length}]`));
      this.skipWs();
      const sep = this.text[this.pos++];
      if (sep === ']') return out;
      if (sep !== ',') throw this.fail('expected "," or "]"');
    }
  }

  private parseString(): string {
    const t = this.text;
    const start = ++this.pos;
    // Fast path: no escapes.
    let i = start;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        const s = t.slice(start, i);
        this.pos = i + 1;
        checkSurrogates(s, this);
        return s;
      }
      if (c === 0x5c || c < 0x20) break;
    }
    let out = t.slice(start, i);
    this.pos = i;
    for (;;) {
      if (this.pos >= t.length) throw this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        checkSurrogates(out, this);
        return out;
      }
      if (c < 0x20) throw this.fail('control character in string');
      if (c !== 0x5c) {
        out += t[this.pos++];
        continue;
      }
      const e = t[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = t.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default: throw this.fail('invalid escape');
      }
    }
  }

  private parseNumber(path: string): number {
    const t = this.text;
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = this.pos;
    const match = m.exec(t);
    if (!match) throw this.fail('invalid number');
    this.pos += match[0].length;
    const n = Number(match[0]);
    if (!Number.isFinite(n)) throw invalid(`number out of range at ${path}`);
    // Compare after conversion with the safe range: "9007199254740993" already rounded to 2^53 here,
    // so 2^53 itself must go too (I-JSON, RFC 7493 §2.2: integers within ±(2^53 − 1)).
    if (Number.isInteger(n) && !Number.isSafeInteger(n)) throw invalid(`integer beyond 2^53 at ${path}; write it as a string`);
    return n;
  }

  /** Offset reporting for checkSurrogates. */
  where(): number {
    return this.pos;
  }
}

/** I-JSON forbids unpaired surrogates; JCS cannot encode them. */
function checkSurrogates(s: string, p: Parser): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    throw invalid(`invalid JSON before offset ${p.where()}: unpaired surrogate in string`);
  }
}
