import { parse as parseYaml } from 'yaml';
import { HandlerRefusal } from '../../catalog/pack-api.js';

/** Bounds of what reaches the repository (docs/knowledge.md, "Limits"). */
export const ENTRY_MAX_BYTES = 256 * 1024;
export const PATH_MAX = 512;
const DEPTH_MAX = 16;
// One segment: no leading dot (so no `.`, `..`, `.git`), no slash, no control characters.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks an entry path: relative, `/`-separated segments without a leading dot (which rules out
 * `..`, `.git/` and hidden files), ending in `.md`; directories do not end in `.md`, so a path is
 * never both an entry and a folder. Refuses with INVALID_PAYLOAD naming what to change.
 */
export function checkPath(path: string): string {
  const bad = (why: string) => new HandlerRefusal('INVALID_PAYLOAD', `entry path ${JSON.stringify(path.slice(0, 80))} ${why}`, { details: { path: path.slice(0, PATH_MAX) } });
  if (path.length === 0 || path.length > PATH_MAX) throw bad(`must be 1 to ${PATH_MAX} characters long`);
  if (path.startsWith('/')) throw bad('is absolute; give a path relative to the knowledge tree, e.g. notes/topic.md');
  const parts = path.split('/');
  if (parts.length > DEPTH_MAX) throw bad(`is nested deeper than ${DEPTH_MAX} folders`);
  for (const part of parts) {
    if (part === '..' || part === '.') throw bad('leaves the knowledge tree (. and .. are not allowed)');
    if (!SEGMENT.test(part)) throw bad(`has the segment ${JSON.stringify(part.slice(0, 40))}; segments use letters, digits, . _ - and do not start with a dot (.git is not part of the tree)`);
  }
  if (!path.endsWith('.md')) throw bad('must name a Markdown entry ending in .md');
  if (parts.slice(0, -1).some((p) => p.endsWith('.md'))) throw bad('has a folder ending in .md; only entries end in .md');
  return path;
}

/** The bytes of an entry given as text or base64; refuses non-UTF-8 and oversize content. */
export function entryBytes(write: { path: string; content?: string; base64?: string }): Buffer {
  if ((write.content === undefined) === (write.base64 === undefined)) {
    throw new HandlerRefusal('INVALID_PAYLOAD', `entry ${write.path} needs exactly one of content (text) or base64 (bytes)`, { details: { path: write.path } });
  }
  const bytes = write.base64 !== undefined ? Buffer.from(write.base64, 'base64') : Buffer.from(write.content ?? '', 'utf8');
  if (bytes.length > ENTRY_MAX_BYTES) {
    throw new HandlerRefusal('INVALID_PAYLOAD', `entry ${write.path} is ${bytes.length} bytes; an entry may be at most ${ENTRY_MAX_BYTES} bytes (split it into several entries)`, { details: { path: write.path, bytes: bytes.length } });
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HandlerRefusal('INVALID_PAYLOAD', `entry ${write.path} is not valid UTF-8; entries are Markdown text`, { details: { path: write.path } });
  }
  return bytes;
}

export interface FrontMatter {
  readonly type: string;
  readonly title: string;
  readonly status?: string;
  readonly links?: readonly string[];
}

/** Splits `---\n<yaml>\n---\n<body>`; null when the text has no front matter. */
export function splitFrontMatter(text: string): { meta: unknown; body: string } | null {
  const m = /^---\r?\n([\s\S]*?)\r?\n---(?:\r?\n|$)/.exec(text);
  if (!m) return null;
  let meta: unknown;
  try {
    meta = parseYaml(m[1]);
  } catch {
    meta = undefined;
  }
  return { meta, body: text.slice(m[0].length) };
}

/** The entry's front matter (type, title, status, links), checked; refuses an entry without one. */
export function frontMatter(path: string, text: string): FrontMatter {
  const split = splitFrontMatter(text);
  const meta = split?.meta as Record<string, unknown> | undefined;
  const refuse = (why: string) => new HandlerRefusal('INVALID_PAYLOAD', `entry ${path} ${why}; begin it with front matter such as "---\\ntype: note\\ntitle: Topic\\nstatus: draft\\nlinks: [other.md]\\n---"`, { details: { path } });
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw refuse('has no front matter');
  const { type, title, status, links } = meta;
  if (typeof type !== 'string' || type.length === 0 || type.length > 64) throw refuse('needs a type (a string of at most 64 characters)');
  if (typeof title !== 'string' || title.length === 0 || title.length > 256) throw refuse('needs a title (a string of at most 256 characters)');
  if (status !== undefined && (typeof status !== 'string' || status.length > 64)) throw refuse('has a status that is not a short string');
  if (links !== undefined && (!Array.isArray(links) || links.length > 256 || links.some((l) => typeof l !== 'string' || l.length > PATH_MAX))) throw refuse('has links that are not a list of paths');
  return { type, title, ...(status !== undefined ? { status } : {}), ...(links !== undefined ? { links: links as string[] } : {}) };
}
