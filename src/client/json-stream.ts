// Streams of JSON values (pull/push progress, events, stats, build output): the daemon
// writes one value per line, but a value may be split across chunks.

export class JsonLineDecoder {
  private buffered = '';

  constructor(private readonly onValue: (value: unknown, text: string) => void) {}

  push(chunk: Buffer | string): void {
    this.buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline = this.buffered.indexOf('\n');
    while (newline >= 0) {
      this.emit(this.buffered.slice(0, newline));
      this.buffered = this.buffered.slice(newline + 1);
      newline = this.buffered.indexOf('\n');
    }
  }

  end(): void {
    this.emit(this.buffered);
    this.buffered = '';
  }

  private emit(line: string): void {
    const text = line.trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new Error(`invalid JSON in stream from the daemon: ${text.slice(0, 80)}`, { cause });
    }
    this.onValue(value, text);
  }
}

/** Iterate the JSON values of a byte stream. */
export async function* jsonValues(stream: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  const queue: unknown[] = [];
  const decoder = new JsonLineDecoder((value) => queue.push(value));
  for await (const chunk of stream) {
    decoder.push(chunk);
    while (queue.length > 0) yield queue.shift();
  }
  decoder.end();
  while (queue.length > 0) yield queue.shift();
}

/** Like jsonValues, with each value's source text (for numbers beyond 2^53, e.g. timeNano). */
export async function* jsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<{ value: unknown; text: string }> {
  const queue: Array<{ value: unknown; text: string }> = [];
  const decoder = new JsonLineDecoder((value, text) => queue.push({ value, text }));
  for await (const chunk of stream) {
    decoder.push(chunk);
    while (queue.length > 0) yield queue.shift() as { value: unknown; text: string };
  }
  decoder.end();
  while (queue.length > 0) yield queue.shift() as { value: unknown; text: string };
}
