/**
 * Just enough InfluxQL to route a `/query`: where one statement ends, and whether it changes
 * state. Not a parser: a node parses (and refuses) what it is sent.
 */

/** Statement keywords whose statements change state on a node: sent to every node. */
const CHANGING_KEYWORDS = new Set([
  'CREATE',
  'DROP',
  'ALTER',
  'DELETE',
  'GRANT',
  'REVOKE',
  'SET',
  'KILL',
]);

/** Words after which a `/` opens a regex rather than dividing (`FROM /cpu.*\/`, `SELECT /u/`). */
const REGEX_AFTER_WORDS = new Set(['FROM', 'SELECT', 'BY', 'KEY', 'ON', 'MEASUREMENT']);

interface Token {
  /** A bare word (upper-cased), or null for anything else (quoted text, regex, punctuation). */
  word: string | null;
  /** A `;` outside quotes, identifiers and regexes: the end of a statement. */
  end?: boolean;
}

/**
 * The tokens of a query, enough to see statement ends and bare keywords: `'strings'`,
 * `"identifiers"` and `/regexes/` (with their backslash escapes) are skipped whole, and so are
 * `--` line comments and `/* *\/` block comments, so a `;` or a word inside them counts for nothing.
 */
function* tokens(q: string): Generator<Token & { start: number; stop: number }> {
  let i = 0;
  let previous: string | null | undefined; // the previous significant token (word or punct)
  while (i < q.length) {
    const c = q[i];
    const start = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && q[i + 1] === '-') {
      while (i < q.length && q[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && q[i + 1] === '*') {
      const close = q.indexOf('*/', i + 2);
      i = close < 0 ? q.length : close + 2;
      continue;
    }
    if (c === "'" || c === '"' || (c === '/' && opensRegex(previous))) {
      i = skipQuoted(q, i, c);
      previous = null;
      yield { word: null, start, stop: i };
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < q.length && /[A-Za-z0-9_]/.test(q[i])) i++;
      const word = q.slice(start, i).toUpperCase();
      previous = word;
      yield { word, start, stop: i };
      continue;
    }
    if (/[0-9.]/.test(c)) {
      while (i < q.length && /[A-Za-z0-9_.]/.test(q[i])) i++;
      previous = '0';
      yield { word: null, start, stop: i };
      continue;
    }
    i++;
    if (c === ';') {
      previous = undefined;
      yield { word: null, end: true, start, stop: i };
      continue;
    }
    // `=~` and `!~` keep `~` as the previous token, after which a regex opens.
    previous = c === ')' ? '0' : c;
    yield { word: null, start, stop: i };
  }
}

/** Whether a `/` after `previous` opens a regex: after an operator, comma, paren or keyword. */
function opensRegex(previous: string | null | undefined): boolean {
  if (previous === undefined) return true;
  if (previous === null || previous === '0') return false; // after a value: division
  if (/^[A-Z_]/.test(previous)) return REGEX_AFTER_WORDS.has(previous);
  return true;
}

/** The index just past the closing quote (or the end of the query when it never closes). */
function skipQuoted(q: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < q.length) {
    if (q[i] === '\\') i += 2;
    else if (q[i] === quote) return i + 1;
    else i++;
  }
  return q.length;
}

/** The statements of a query, trimmed, split on `;` outside quotes, identifiers and regexes. */
export function splitStatements(q: string): string[] {
  const statements: string[] = [];
  let start = 0;
  for (const token of tokens(q)) {
    if (!token.end) continue;
    statements.push(q.slice(start, token.start));
    start = token.stop;
  }
  statements.push(q.slice(start));
  return statements.map((s) => s.trim()).filter((s) => s.length > 0 && !isOnlyComment(s));
}

function isOnlyComment(statement: string): boolean {
  for (const token of tokens(statement)) if (token) return false;
  return true;
}

/**
 * Whether one statement changes state: CREATE, DROP, ALTER, DELETE, GRANT, REVOKE, SET
 * (PASSWORD), KILL, and SELECT … INTO. Reads (SELECT, SHOW, EXPLAIN) and anything unknown do
 * not (a node refuses an unknown statement; one node's refusal is enough).
 */
export function changesState(statement: string): boolean {
  let first: string | null | undefined;
  for (const token of tokens(statement)) {
    if (first === undefined) {
      first = token.word;
      if (first !== null && CHANGING_KEYWORDS.has(first)) return true;
      if (first !== 'SELECT') return false;
      continue;
    }
    if (token.word === 'INTO') return true;
  }
  return false;
}

/** Whether a query (one or several statements) changes state: any one of them does. */
export function queryChangesState(q: string): boolean {
  return splitStatements(q).some(changesState);
}
