// Parses Consul's ?filter expressions (hashicorp/go-bexpr's grammar): selectors, ==, !=, in, not in, contains,
// not contains, is empty, is not empty, matches, not matches, and, or, not, parentheses, quoted and bare values.

/** A match operator (contains / not contains are spelt in / not in with the operands swapped). */
export type MatchOperator = '==' | '!=' | 'in' | 'not in' | 'is empty' | 'is not empty' | 'matches' | 'not matches';

/** A selector: a path into the filtered value ("Service.Meta.env", `Meta["x"]`, "/Service/Tags"). */
export interface Selector {
  path: string[];
  text: string;
}

/** The parsed expression. */
export type FilterExpression =
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'not'; operand: FilterExpression }
  | { kind: 'match'; operator: MatchOperator; selector: Selector; value: string | undefined; position: number };

/** A syntax error, positioned as go-bexpr reports it: "line:column (offset): message". */
export class FilterSyntaxError extends Error {
  readonly position: number;
  constructor(input: string, position: number, message: string) {
    const before = input.slice(0, position);
    const line = before.split('\n').length;
    const column = position - (before.lastIndexOf('\n') + 1) + 1;
    super(`${line}:${column} (${position}): ${message}`);
    this.name = 'FilterSyntaxError';
    this.position = position;
  }
}

const IDENT_START = /[a-zA-Z]/;
const IDENT_REST = /[a-zA-Z0-9_/]/;
const POINTER_CHAR = /[\p{L}\p{N}\-_.~:|]/u;

class Parser {
  pos = 0;
  private farthest = 0;
  private expected = new Set<string>();
  private failure: { position: number; message: string } | undefined;

  constructor(readonly input: string) {}

  private expect(label: string): false {
    if (this.pos > this.farthest) {
      this.farthest = this.pos;
      this.expected = new Set();
    }
    if (this.pos === this.farthest) this.expected.add(label);
    return false;
  }

  private fail(message: string): null {
    if (!this.failure || this.pos >= this.failure.position) this.failure = { position: this.pos, message };
    return null;
  }

  error(): FilterSyntaxError {
    if (this.failure && this.failure.position >= this.farthest) return new FilterSyntaxError(this.input, this.failure.position, this.failure.message);
    const labels = [...this.expected].sort();
    const list = labels.length <= 1 ? labels.join('') : `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
    const found = this.farthest >= this.input.length ? 'end of input' : JSON.stringify(this.input[this.farthest]);
    return new FilterSyntaxError(this.input, this.farthest, `no match found, expected: ${list} (found ${found})`);
  }

  private lit(text: string): boolean {
    if (this.input.startsWith(text, this.pos)) {
      this.pos += text.length;
      return true;
    }
    return this.expect(JSON.stringify(text));
  }

  /** Required whitespace (`_` in the grammar). */
  private ws(): boolean {
    const start = this.pos;
    while (this.pos < this.input.length && ' \t\r\n'.includes(this.input[this.pos]!)) this.pos += 1;
    return this.pos > start ? true : this.expect('whitespace');
  }

  /** Optional whitespace (`_?`). */
  private optWs(): void {
    while (this.pos < this.input.length && ' \t\r\n'.includes(this.input[this.pos]!)) this.pos += 1;
  }

  private atEof(): boolean {
    return this.pos >= this.input.length ? true : this.expect('end of input');
  }

  /** Tries `rule`; restores the position when it fails. */
  private attempt<T>(rule: () => T | null): T | null {
    const start = this.pos;
    const result = rule();
    if (result === null) this.pos = start;
    return result;
  }

  parseInput(): FilterExpression | null {
    return (
      this.attempt(() => {
        this.optWs();
        if (!this.lit('(')) return null;
        this.optWs();
        const expr = this.orExpr();
        if (!expr) return null;
        this.optWs();
        if (!this.lit(')')) return null;
        this.optWs();
        return this.atEof() ? expr : null;
      }) ??
      this.attempt(() => {
        this.optWs();
        const expr = this.orExpr();
        if (!expr) return null;
        this.optWs();
        return this.atEof() ? expr : null;
      })
    );
  }

  private orExpr(): FilterExpression | null {
    const left = this.andExpr();
    if (!left) return null;
    const right = this.attempt(() => (this.ws() && this.lit('or') && this.ws() ? this.orExpr() : null));
    return right ? { kind: 'or', left, right } : left;
  }

  private andExpr(): FilterExpression | null {
    const left = this.notExpr();
    if (!left) return null;
    const right = this.attempt(() => (this.ws() && this.lit('and') && this.ws() ? this.andExpr() : null));
    return right ? { kind: 'and', left, right } : left;
  }

  private notExpr(): FilterExpression | null {
    const negated = this.attempt(() => {
      if (!(this.lit('not') && this.ws())) return null;
      const operand = this.notExpr();
      if (!operand) return null;
      return operand.kind === 'not' ? operand.operand : ({ kind: 'not', operand } as FilterExpression);
    });
    return negated ?? this.parenExpr();
  }

  private parenExpr(): FilterExpression | null {
    const grouped = this.attempt(() => {
      if (!this.lit('(')) return null;
      this.optWs();
      const expr = this.orExpr();
      if (!expr) return null;
      this.optWs();
      return this.lit(')') ? expr : null;
    });
    if (grouped) return grouped;
    const match = this.attempt(() => this.matchExpr());
    if (match) return match;
    // "(" expression without its ")": report it as go-bexpr does.
    const start = this.pos;
    if (this.lit('(')) {
      this.optWs();
      if (this.orExpr()) {
        this.optWs();
        if (!this.input.startsWith(')', this.pos)) this.fail('Unmatched parentheses');
      }
    }
    this.pos = start;
    return null;
  }

  private matchExpr(): FilterExpression | null {
    const position = this.pos;
    const selectorOpValue = this.attempt(() => {
      const selector = this.selector();
      if (!selector) return null;
      const operator = this.selectorValueOperator();
      if (!operator) return null;
      const value = this.value();
      if (value === null) return null;
      return { kind: 'match', operator, selector, value, position } as FilterExpression;
    });
    if (selectorOpValue) return selectorOpValue;
    const selectorOp = this.attempt(() => {
      const selector = this.selector();
      if (!selector) return null;
      const operator = this.attempt(() => (this.ws() && this.lit('is') && this.ws() && this.lit('not') && this.ws() && this.lit('empty') ? 'is not empty' : null)) ??
        this.attempt(() => (this.ws() && this.lit('is') && this.ws() && this.lit('empty') ? 'is empty' : null));
      if (!operator) return null;
      return { kind: 'match', operator, selector, value: undefined, position } as FilterExpression;
    });
    if (selectorOp) return selectorOp;
    return this.attempt(() => {
      const value = this.value();
      if (value === null) return null;
      const operator = this.attempt(() => (this.ws() && this.lit('in') && this.ws() ? 'in' : null)) ??
        this.attempt(() => (this.ws() && this.lit('not') && this.ws() && this.lit('in') && this.ws() ? 'not in' : null));
      if (!operator) return null;
      const selector = this.selector();
      if (!selector) return this.fail('Invalid selector');
      return { kind: 'match', operator, selector, value, position } as FilterExpression;
    });
  }

  private selectorValueOperator(): MatchOperator | null {
    return (
      this.attempt(() => {
        this.optWs();
        return this.lit('==') ? (this.optWs(), '==' as const) : null;
      }) ??
      this.attempt(() => {
        this.optWs();
        return this.lit('!=') ? (this.optWs(), '!=' as const) : null;
      }) ??
      this.attempt(() => (this.ws() && this.lit('contains') && this.ws() ? ('in' as const) : null)) ??
      this.attempt(() => (this.ws() && this.lit('not') && this.ws() && this.lit('contains') && this.ws() ? ('not in' as const) : null)) ??
      this.attempt(() => (this.ws() && this.lit('matches') && this.ws() ? ('matches' as const) : null)) ??
      this.attempt(() => (this.ws() && this.lit('not') && this.ws() && this.lit('matches') && this.ws() ? ('not matches' as const) : null))
    );
  }

  private identifier(): string | null {
    const c = this.input[this.pos];
    if (c === undefined || !IDENT_START.test(c)) return this.expect('[a-zA-Z]') || null;
    const start = this.pos;
    this.pos += 1;
    while (this.pos < this.input.length && IDENT_REST.test(this.input[this.pos]!)) this.pos += 1;
    return this.input.slice(start, this.pos);
  }

  private selector(): Selector | null {
    const start = this.pos;
    const pointer = this.attempt(() => this.jsonPointer());
    if (pointer) return { path: pointer, text: this.input.slice(start, this.pos) };
    const first = this.identifier();
    if (first === null) return null;
    const path = [first];
    for (;;) {
      const part = this.attempt(() => {
        if (this.input[this.pos] === '.') {
          this.pos += 1;
          const ident = this.attempt(() => this.identifier());
          if (ident !== null) return ident;
          const digits = /^[0-9]+/.exec(this.input.slice(this.pos));
          if (digits) {
            this.pos += digits[0].length;
            return digits[0];
          }
          return null;
        }
        if (this.input[this.pos] === '[') return this.indexExpression();
        return null;
      });
      if (part === null) break;
      path.push(part);
    }
    return { path, text: this.input.slice(start, this.pos) };
  }

  private indexExpression(): string | null {
    this.pos += 1; // "["
    this.optWs();
    const literal = this.attempt(() => this.stringLiteral());
    if (literal === null) return this.fail('Invalid index');
    this.optWs();
    if (!this.lit(']')) return this.fail('Unclosed index expression');
    return literal;
  }

  private jsonPointer(): string[] | null {
    if (this.input[this.pos] !== '"') return null;
    this.pos += 1;
    const parts: string[] = [];
    while (this.input[this.pos] === '/') {
      this.pos += 1;
      const start = this.pos;
      while (this.pos < this.input.length && POINTER_CHAR.test(this.input[this.pos]!)) this.pos += 1;
      if (this.pos === start) return null;
      parts.push(this.input.slice(start, this.pos).replace(/~1/g, '/').replace(/~0/g, '~'));
    }
    if (parts.length === 0 || this.input[this.pos] !== '"') return null;
    this.pos += 1;
    return parts;
  }

  private value(): string | null {
    const selector = this.attempt(() => this.selector());
    if (selector) return selector.path.join('.');
    const number = this.attempt(() => this.numberLiteral());
    if (number !== null) return number;
    return this.attempt(() => this.stringLiteral());
  }

  private numberLiteral(): string | null {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?/.exec(this.input.slice(this.pos));
    if (!m) return this.expect('number') || null;
    this.pos += m[0].length;
    const next = this.input[this.pos];
    if (next !== undefined && !' \t\r\n)'.includes(next)) return this.fail('Invalid number literal');
    return m[0];
  }

  private stringLiteral(): string | null {
    const quote = this.input[this.pos];
    if (quote !== '"' && quote !== '`') return this.expect('string') || null;
    const end = this.input.indexOf(quote, this.pos + 1);
    if (end < 0) {
      this.pos = this.input.length;
      return this.fail('Unterminated string literal');
    }
    const body = this.input.slice(this.pos + 1, end);
    const at = this.pos;
    this.pos = end + 1;
    if (quote === '`') return body;
    const unquoted = unquoteGo(body);
    if (unquoted === undefined) {
      this.pos = at;
      return this.fail(`invalid syntax in string literal ${this.input.slice(at, end + 1)}`);
    }
    return unquoted;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"' };

/** Go's strconv.Unquote for the inside of a double-quoted literal; undefined when an escape is invalid. */
function unquoteGo(body: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      if (c === '\n') return undefined;
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return undefined;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) return undefined;
      out += String.fromCodePoint(code);
      i += len;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else return undefined;
  }
  return out;
}

/** Parses a filter expression; throws FilterSyntaxError with go-bexpr's position format. */
export function parseFilter(input: string): FilterExpression {
  const parser = new Parser(input);
  const expr = parser.parseInput();
  if (!expr) throw parser.error();
  return expr;
}
