import { createHash, timingSafeEqual } from 'node:crypto';
import { insecureAdvice, PrivateFileError, readPrivateFile } from '../util/private-file.js';

/** Shortest scrape token writ accepts, in bytes: as long as an HS256 secret (RFC 7518 §3.2), too long to guess. */
export const MIN_SCRAPE_TOKEN_BYTES = 32;

/**
 * The Prometheus scrape token (metrics.scrapeTokenFile): a scraper sends it as `Authorization: Bearer
 * <token>` and may read GET /metrics, nothing else. Compared in constant time (digests of equal
 * length, then timingSafeEqual), so the answer's timing says nothing about how much of a guess was
 * right. Messages name the file and its length, never its content.
 */
export class ScrapeToken {
  private constructor(private readonly digest: Buffer) {}

  static read(path: string): ScrapeToken {
    let text: string;
    try {
      text = readPrivateFile(path).trim();
    } catch (err) {
      if (!(err instanceof PrivateFileError)) throw err;
      const p = err.problem;
      const why = p.kind === 'insecure' ? insecureAdvice(path, p) : p.kind === 'not-a-file' ? 'is not a file' : `cannot be read (${p.code})`;
      throw new Error(`metrics.scrapeTokenFile: ${path} ${why}`);
    }
    const bytes = Buffer.byteLength(text);
    if (bytes < MIN_SCRAPE_TOKEN_BYTES || /\s/.test(text)) {
      throw new Error(
        `metrics.scrapeTokenFile: ${path} holds ${bytes} bytes${/\s/.test(text) ? ' with white space inside' : ''}; a scrape token is one word of at least ${MIN_SCRAPE_TOKEN_BYTES} bytes. ` +
          `Generate one with \`openssl rand -hex 32 > ${path} && chmod 600 ${path}\` and give it to the scraper (Authorization: Bearer <token>)`,
      );
    }
    return new ScrapeToken(sha256(text));
  }

  /** Whether an Authorization header carries this token (`Bearer <token>`). */
  matches(authorization: string | undefined): boolean {
    if (authorization === undefined || !/^bearer /i.test(authorization)) return false;
    return timingSafeEqual(sha256(authorization.slice(7).trim()), this.digest);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
