import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { WritError } from '../../core/errors.js';

/** One line of the NDJSON anchor file, in this field order. */
export interface CheckpointLine {
  readonly origin: string;
  readonly tenant: string;
  readonly scroll: string;
  readonly size: number;
  readonly root: string;
  readonly note: string;
  readonly at: string;
}

const STRING_FIELDS = ['origin', 'tenant', 'scroll', 'root', 'note', 'at'] as const;

/**
 * Streams the complete lines of the file to `visit`, numbered from 1. A final fragment without a
 * newline is a torn line (a crash, or a writer, mid-append): it is not visited, and its line number
 * and length are returned. A complete line that is not a checkpoint is LEDGER_INCONSISTENT.
 */
export async function scanLines(path: string, visit: (line: CheckpointLine, lineNo: number) => void): Promise<{ lineNo: number; length: number } | null> {
  let carry: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    // Splitting on the byte 0x0a is safe in UTF-8, and JSON escapes newlines inside strings.
    for (let eol = buf.indexOf(0x0a); eol >= 0; eol = buf.indexOf(0x0a, start)) {
      lineNo += 1;
      visit(parseLine(path, buf.toString('utf8', start, eol), lineNo), lineNo);
      start = eol + 1;
    }
    carry = buf.subarray(start);
  }
  return carry.length > 0 ? { lineNo: lineNo + 1, length: carry.length } : null;
}

function parseLine(path: string, text: string, lineNo: number): CheckpointLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Partial<Record<keyof CheckpointLine, unknown>> | undefined;
  const ok = typeof v === 'object' && v !== null && STRING_FIELDS.every((k) => typeof v[k] === 'string') && Number.isSafeInteger(v.size) && (v.size as number) >= 0;
  if (!ok) throw new WritError('LEDGER_INCONSISTENT', `${path}:${lineNo}: not a checkpoint line (${value === undefined ? 'not JSON' : 'missing or mistyped fields'}); the anchor file was damaged or edited — restore it from a copy, or check and remove that line`);
  return value as CheckpointLine;
}

/** Where the bytes after the last newline start, and how many there are; null when the file ends cleanly. */
export async function tornTail(file: FileHandle): Promise<{ offset: number; length: number } | null> {
  const size = (await file.stat()).size;
  const end = await completeLength(file, size);
  return end === size ? null : { offset: end, length: size - end };
}

/**
 * How many of the first `size` bytes form complete lines: the offset just after the last newline
 * before `size` (0 when there is none). A copy of that many bytes never ends in a torn line, even
 * while a writer appends.
 */
export async function completeLength(file: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await file.read(chunk, 0, end - start, start);
    const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * Moves a torn last line out of the way so the next line starts fresh: its bytes are kept in
 * `<path>.torn-<ms>` (evidence of the crash), then cut off. Returns what it did, or null when the
 * file ended cleanly.
 */
export async function setTornTailAside(file: FileHandle, path: string): Promise<string | null> {
  const torn = await tornTail(file);
  if (!torn) return null;
  const bytes = Buffer.alloc(torn.length);
  await file.read(bytes, 0, torn.length, torn.offset);
  const aside = `${path}.torn-${Date.now()}`;
  const side = await open(aside, 'wx');
  try {
    await side.writeFile(bytes);
    await side.sync();
  } finally {
    await side.close();
  }
  await file.truncate(torn.offset);
  await file.sync();
  return `${path}: a torn last line of ${torn.length} bytes was moved to ${aside}`;
}

/** Makes a new file's directory entry durable; not possible on every platform (Windows), so best effort. */
export async function syncFolder(folder: string): Promise<void> {
  const dir = await open(folder, 'r').catch(() => null);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}
