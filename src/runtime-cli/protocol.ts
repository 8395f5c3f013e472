// The wire protocol between berth-runtime's thin client (native/src/client.c, whose header
// comment is the reference) and its resident server (server.ts).
import { invalidArgument } from '../errors/berth-error.js';

/** "BRT1" read as a little-endian u32: the first word of every request */
export const REQUEST_MAGIC = 0x31545242;
/** argv + cwd + environment, as the client caps them */
export const MAX_REQUEST_PAYLOAD = 1 << 20;
export const SOCKET_NAME = 'berth-runtime.sock';
export const LOG_NAME = 'berth-runtime-server.log';
export const PID_NAME = 'berth-runtime-server.pid';
/** the hidden argument that makes the entry point a server (the client starts it so) */
export const SERVE_FLAG = '--serve-runtime';

export const SERVER_MESSAGES = { ACCEPTED: 1, EXIT: 2, DIE: 3, RAW: 4 } as const;
export const CLIENT_MESSAGES = { SIGNAL: 1, RESIZE: 2 } as const;
const MESSAGE_SIZE = 12;

export interface RuntimeRequest {
  cwd: string;
  /** the command line after the program name */
  argv: string[];
  env: Record<string, string>;
}

/** Decode a request payload: u32 argc, u32 envc, then cwd, argv and env as NUL-terminated strings. */
export function decodeRequest(payload: Buffer): RuntimeRequest {
  if (payload.length < 8) throw invalidArgument('BAD_RUNTIME_REQUEST', `runtime request of ${payload.length} bytes: too short`);
  const argc = payload.readUInt32LE(0);
  const envc = payload.readUInt32LE(4);
  const strings: string[] = [];
  let offset = 8;
  while (offset < payload.length) {
    const end = payload.indexOf(0, offset);
    if (end < 0) throw invalidArgument('BAD_RUNTIME_REQUEST', `runtime request: string at byte ${offset} has no terminating NUL`);
    strings.push(payload.toString('utf8', offset, end));
    offset = end + 1;
  }
  if (strings.length !== 1 + argc + envc) {
    throw invalidArgument('BAD_RUNTIME_REQUEST', `runtime request: ${strings.length} strings, expected 1 + ${argc} + ${envc}`);
  }
  const [cwd = ''] = strings;
  if (!cwd.startsWith('/')) throw invalidArgument('BAD_RUNTIME_REQUEST', `runtime request: cwd ${JSON.stringify(cwd)} is not absolute`);
  const env: Record<string, string> = {};
  for (const entry of strings.slice(1 + argc)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { cwd, argv: strings.slice(1, 1 + argc), env };
}

/** The client's encoding (for tests and tools that speak to the server). */
export function encodeRequest(request: RuntimeRequest): Buffer {
  const env = Object.entries(request.env).map(([name, value]) => `${name}=${value}`);
  const counts = Buffer.alloc(8);
  counts.writeUInt32LE(request.argv.length, 0);
  counts.writeUInt32LE(env.length, 4);
  return Buffer.concat([counts, ...[request.cwd, ...request.argv, ...env].map((s) => Buffer.from(`${s}\0`))]);
}

export function encodeMessage(type: number, a = 0, b = 0): Buffer {
  const msg = Buffer.alloc(MESSAGE_SIZE);
  msg.writeUInt32LE(type, 0);
  msg.writeUInt32LE(a >>> 0, 4);
  msg.writeUInt32LE(b >>> 0, 8);
  return msg;
}

export interface Message { type: number; a: number; b: number }

/** Splits a byte stream into 12-byte messages. */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Message[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Message[] = [];
    while (this.pending.length >= MESSAGE_SIZE) {
      messages.push({ type: this.pending.readUInt32LE(0), a: this.pending.readUInt32LE(4), b: this.pending.readUInt32LE(8) });
      this.pending = this.pending.subarray(MESSAGE_SIZE);
    }
    return messages;
  }
}
