import { Transform, type TransformCallback } from 'node:stream';

const NL = Buffer.from('\n');

/**
 * Splits a byte stream into lines (MCP's stdio framing: one JSON-RPC message per line) and never
 * holds more than `maxLineBytes` of one: a longer line is dropped as it streams in, and
 * `onOversize` is told its length once its end arrives. The SDK's own reader would buffer up to
 * 10 MB and then close the session; this keeps the session and answers the one line.
 */
export class BoundedLines extends Transform {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the line being dropped, or -1 while the current line is kept. */
  private dropped = -1;

  constructor(private readonly maxLineBytes: number, private readonly onOversize: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (this.dropped >= 0) this.dropped += piece.length;
      else if (this.size + piece.length > this.maxLineBytes) {
        this.dropped = this.size + piece.length;
        this.parts = [];
        this.size = 0;
      } else if (piece.length > 0) {
        this.parts.push(piece);
        this.size += piece.length;
      }
      if (nl === -1) break;
      if (this.dropped >= 0) this.onOversize(this.dropped);
      else this.push(Buffer.concat([...this.parts, NL]));
      this.parts = [];
      this.size = 0;
      this.dropped = -1;
      start = nl + 1;
    }
    done();
  }
}
