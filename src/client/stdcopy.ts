// Docker's multiplexed stream framing (stdcopy): an 8-byte header [stream, 0, 0, 0, size
// as big-endian uint32] before each frame. Used by logs, attach and exec without a TTY.

export type StdStream = 'stdin' | 'stdout' | 'stderr' | 'system';
const STREAMS: readonly StdStream[] = ['stdin', 'stdout', 'stderr', 'system'];
const HEADER = 8;

/** Feed chunks in any split; frames come out whole, in order. */
export class StdDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: StdStream, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER) {
      const streamByte = this.pending[0] ?? 0;
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) return;
      const stream = STREAMS[streamByte];
      const data = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      if (stream === undefined) throw new Error(`unrecognized stream ${streamByte} in multiplexed output`);
      this.onFrame(stream, data);
    }
  }

  /** Bytes left over that never formed a whole frame (a truncated stream). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Frame one payload (the daemon side of the format; used in tests and fakes). */
export function frame(stream: StdStream, data: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = STREAMS.indexOf(stream);
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
