/**
 * Lists the concrete `Host` aliases of the user's ~/.ssh/config for the "Add SSH Host…" picker.
 * Only reads what a picker needs (alias, HostName, User, Port); ssh itself still resolves every
 * option when TrainQ connects, so nothing here has to be a faithful ssh_config interpreter.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SshConfigHost {
  alias: string;
  hostName?: string;
  user?: string;
  port?: number;
  /** File and 1-based line of the `Host` line, for the picker's detail. */
  file: string;
  line: number;
}

export interface ListSshHostsOptions {
  /** Defaults to ~/.ssh/config. */
  file?: string;
  /** Home folder for `~` and relative Include paths; defaults to the account's home, as ssh uses. */
  home?: string;
}

/** ssh's own limit on nested Include, which also stops include cycles. */
const MAX_INCLUDE_DEPTH = 16;

/** Splits a config line into words: whitespace or one '=' separates; "…" quotes; '#' starts a comment. */
export function splitConfigLine(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const text = line.trim();
  // `Keyword=value` and `Keyword = value` are the same as `Keyword value`.
  const eq = /^([A-Za-z]+)\s*=\s*/.exec(text);
  const body = eq ? `${eq[1]} ${text.slice(eq[0].length)}` : text;
  while (i < body.length) {
    const c = body[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"') {
      const end = body.indexOf('"', i + 1);
      words.push(body.slice(i + 1, end < 0 ? body.length : end));
      i = end < 0 ? body.length : end + 1;
    } else {
      let j = i;
      while (j < body.length && body[j] !== ' ' && body[j] !== '\t') {
        j++;
      }
      words.push(body.slice(i, j));
      i = j;
    }
  }
  return words;
}

function isPattern(alias: string): boolean {
  return /[*?!]/.test(alias);
}

function expandTilde(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** Expands `*` and `?` in any path segment, like glob(3) does for Include (sorted, dotfiles only when asked). */
async function expandGlob(pattern: string): Promise<string[]> {
  const segments = pattern.split('/');
  let bases = [segments[0] === '' ? '/' : segments[0]];
  for (const segment of segments.slice(1)) {
    if (segment === '') {
      continue;
    }
    const next: string[] = [];
    for (const base of bases) {
      if (!/[*?]/.test(segment)) {
        next.push(path.join(base, segment));
        continue;
      }
      const re = globToRegExp(segment);
      const entries = await fs.readdir(base).catch(() => [] as string[]);
      next.push(...entries.filter((e) => re.test(e) && (segment.startsWith('.') || !e.startsWith('.'))).sort().map((e) => path.join(base, e)));
    }
    bases = next;
  }
  return bases;
}

interface Block {
  hosts: SshConfigHost[];
}

async function readConfig(file: string, home: string, depth: number, out: SshConfigHost[], current: Block): Promise<void> {
  if (depth > MAX_INCLUDE_DEPTH) {
    return;
  }
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    return;
  }
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const [keyword, ...args] = splitConfigLine(lines[n]);
    switch (keyword?.toLowerCase()) {
      case 'host':
        current = { hosts: args.filter((a) => !isPattern(a)).map((alias) => ({ alias, file, line: n + 1 })) };
        out.push(...current.hosts);
        break;
      case 'match':
        // Settings under Match apply conditionally; they are not any alias's own values.
        current = { hosts: [] };
        break;
      case 'include':
        for (const arg of args) {
          const expanded = expandTilde(arg, home);
          const full = path.isAbsolute(expanded) ? expanded : path.join(home, '.ssh', expanded);
          for (const match of await expandGlob(full)) {
            // Like ssh, the including block is still the current one after the included file.
            await readConfig(match, home, depth + 1, out, current);
          }
        }
        break;
      case 'hostname':
      case 'user':
      case 'port':
        for (const host of current.hosts) {
          // ssh keeps the first value it reads for an option.
          if (keyword.toLowerCase() === 'hostname') {
            host.hostName ??= args[0];
          } else if (keyword.toLowerCase() === 'user') {
            host.user ??= args[0];
          } else if (/^\d+$/.test(args[0] ?? '')) {
            host.port ??= Number(args[0]);
          }
        }
        break;
      default:
        break;
    }
  }
}

/** Concrete aliases in file order, first definition winning; wildcard and negated patterns are skipped. */
export async function listSshConfigHosts(opts: ListSshHostsOptions = {}): Promise<SshConfigHost[]> {
  // ssh finds ~/.ssh through the password database, not $HOME; read the file it will read.
  const home = opts.home ?? accountHome();
  const file = opts.file ?? path.join(home, '.ssh', 'config');
  const all: SshConfigHost[] = [];
  await readConfig(file, home, 0, all, { hosts: [] });
  const seen = new Set<string>();
  return all.filter((h) => !seen.has(h.alias) && seen.add(h.alias) !== undefined);
}

function accountHome(): string {
  try {
    return os.userInfo().homedir;
  } catch {
    return os.homedir();
  }
}
