// Parsing WWW-Authenticate (RFC 7235): one or more challenges, each a scheme followed by
// comma-separated auth-params whose values may be quoted strings with backslash escapes.
// Registries send `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`.

export interface AuthChallenge {
  /** lowercase scheme: 'bearer', 'basic', ... */
  scheme: string;
  /** auth-params with lowercase names */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const BARE = /[^,\s]*/y;

export function parseChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  return values.flatMap((value) => parseOneHeader(value));
}

function parseOneHeader(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  const cursor = { text: header, at: 0 };
  while (skipSeparators(cursor)) {
    const scheme = readToken(cursor);
    if (scheme === undefined) break;
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    readParams(cursor, challenge.params);
  }
  return challenges;
}

/** Reads `name=value` pairs until the next scheme (a token not followed by '='). */
function readParams(cursor: Cursor, params: Record<string, string>): void {
  for (;;) {
    skipSpaces(cursor);
    while (cursor.text[cursor.at] === ',') { cursor.at++; skipSpaces(cursor); }
    const start = cursor.at;
    const name = readToken(cursor);
    if (name === undefined) return;
    skipSpaces(cursor);
    if (cursor.text[cursor.at] !== '=') {
      cursor.at = start; // a new scheme begins here
      return;
    }
    cursor.at++;
    skipSpaces(cursor);
    params[name.toLowerCase()] = cursor.text[cursor.at] === '"' ? readQuoted(cursor) : readBare(cursor);
  }
}

interface Cursor { text: string; at: number }

function readToken(cursor: Cursor): string | undefined {
  TOKEN.lastIndex = cursor.at;
  const match = TOKEN.exec(cursor.text);
  if (!match) return undefined;
  cursor.at = TOKEN.lastIndex;
  return match[0];
}

/** Unquoted values: a token by the RFC, but registries send bare URLs too, so read to the next comma or space. */
function readBare(cursor: Cursor): string {
  BARE.lastIndex = cursor.at;
  const match = BARE.exec(cursor.text);
  cursor.at = BARE.lastIndex;
  return match?.[0] ?? '';
}

function readQuoted(cursor: Cursor): string {
  let value = '';
  cursor.at++; // opening quote
  while (cursor.at < cursor.text.length) {
    const ch = cursor.text[cursor.at++];
    if (ch === '"') return value;
    if (ch === '\\' && cursor.at < cursor.text.length) value += cursor.text[cursor.at++];
    else value += ch;
  }
  return value;
}

function skipSpaces(cursor: Cursor): void {
  while (cursor.text[cursor.at] === ' ' || cursor.text[cursor.at] === '\t') cursor.at++;
}

/** Skips whitespace and commas; false at the end of the text. */
function skipSeparators(cursor: Cursor): boolean {
  while (cursor.at < cursor.text.length && /[\s,]/.test(cursor.text[cursor.at] ?? '')) cursor.at++;
  return cursor.at < cursor.text.length;
}
