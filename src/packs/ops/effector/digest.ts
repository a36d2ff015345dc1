import { createHash, type Hash } from 'node:crypto';
import type { OutputDigest } from '../op-doc.js';

/** Hashes an output stream as it comes; only its SHA-256 and size are ever kept. */
export class StreamDigest {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  done(): OutputDigest {
    return { sha256: this.hash.digest('hex'), size: this.size };
  }
}

export function digestOf(bytes: Uint8Array | string): OutputDigest {
  const d = new StreamDigest();
  d.update(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  return d.done();
}
