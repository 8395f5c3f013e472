// Docker's multiplexed stream framing (stdcopy) used by attach, exec and logs without a
// tty: an 8-byte header [stream, 0, 0, 0, size(uint32 big-endian)] before each payload.
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export type StreamName = 'stdin' | 'stdout' | 'stderr';

const STREAM_NUMBER: Record<StreamName, number> = { stdin: STDIN, stdout: STDOUT, stderr: STDERR };

/** the largest payload one frame carries; larger chunks are split */
const MAX_FRAME = 0xffffffff;

export function frame(stream: StreamName, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME) throw new RangeError('stdcopy payload too large');
  const header = Buffer.alloc(8);
  header[0] = STREAM_NUMBER[stream];
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Split a multiplexed byte stream back into frames (tests and clients). */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ stream: number; payload: Buffer }> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Array<{ stream: number; payload: Buffer }> = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      frames.push({ stream: this.pending[0] ?? 0, payload: this.pending.subarray(8, 8 + size) });
      this.pending = this.pending.subarray(8 + size);
    }
    return frames;
  }
}
