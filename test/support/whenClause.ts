// A small evaluator for the part of VS Code's when-clause language that package.json uses: `&&`, `||`,
// `!`, parentheses, `==`, `!=`, `=~ /regex/flags`, bare keys and true/false. Precedence as VS Code's
// (`!` > comparison > `&&` > `||`), so a clause that reads right but binds wrong is caught by evaluating it.

export type Context = Record<string, string | boolean | undefined>;

type Token = { kind: 'op'; text: string } | { kind: 'word'; text: string } | { kind: 'regex'; re: RegExp };

function tokenize(clause: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < clause.length) {
    const rest = clause.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const op = /^(&&|\|\||==|!=|=~|!|\(|\))/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[1] });
      i += op[1].length;
      // The right side of =~ is a regex literal; it may hold any character, so it is read here.
      if (op[1] === '=~') {
        const lit = /^\s*\/((?:\\.|[^/\\])*)\/([a-z]*)/.exec(clause.slice(i));
        if (!lit) throw new Error(`expected /regex/ after =~ in: ${clause}`);
        tokens.push({ kind: 'regex', re: new RegExp(lit[1], lit[2]) });
        i += lit[0].length;
      }
      continue;
    }
    const word = /^('[^']*'|[^\s!=&|()~]+)/.exec(rest);
    if (!word) throw new Error(`cannot read "${rest}" in: ${clause}`);
    tokens.push({ kind: 'word', text: word[1].replace(/^'(.*)'$/, '$1') });
    i += word[1].length;
  }
  return tokens;
}

/** Evaluates `clause` in `context`; an unset key is falsy, as in VS Code. Throws on syntax it does not know. */
export function evaluateWhen(clause: string, context: Context): boolean {
  const tokens = tokenize(clause);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (text: string) => peek()?.kind === 'op' && (peek() as { text: string }).text === text;
  const value = (key: string): string | boolean | undefined => context[key];

  const or = (): boolean => {
    let v = and();
    while (isOp('||')) {
      pos++;
      const r = and();
      v = v || r;
    }
    return v;
  };
  const and = (): boolean => {
    let v = unary();
    while (isOp('&&')) {
      pos++;
      const r = unary();
      v = v && r;
    }
    return v;
  };
  const unary = (): boolean => {
    if (isOp('!')) {
      pos++;
      return !unary();
    }
    if (isOp('(')) {
      pos++;
      const v = or();
      if (!isOp(')')) throw new Error(`unbalanced ( in: ${clause}`);
      pos++;
      return v;
    }
    const token = tokens[pos++];
    if (token?.kind !== 'word') throw new Error(`expected a key in: ${clause}`);
    if (token.text === 'true') return true;
    if (token.text === 'false') return false;
    const left = value(token.text);
    if (isOp('==') || isOp('!=')) {
      const negate = (tokens[pos++] as { text: string }).text === '!=';
      const right = tokens[pos++];
      if (right?.kind !== 'word') throw new Error(`expected a value in: ${clause}`);
      return (String(left) === right.text) !== negate;
    }
    if (isOp('=~')) {
      pos++;
      const right = tokens[pos++];
      if (right?.kind !== 'regex') throw new Error(`expected a regex in: ${clause}`);
      return typeof left === 'string' && right.re.test(left);
    }
    return !!left;
  };

  const result = or();
  if (pos !== tokens.length) throw new Error(`unexpected text after position ${pos} in: ${clause}`);
  return result;
}
