/**
 * Reads queueing defaults from a comment in a script's header, e.g.
 *   # trainq: gpus=2 runtime=3h importance=high gain=5 args="--lr 3e-4 --name 'my run'"
 * Only the first 40 lines are read; several `# trainq:` lines merge, a later value replacing an
 * earlier one. A header is a convenience: anything wrong in it becomes a warning naming the line,
 * never an exception, so a bad header can't stop a job from being queued.
 */
import type { Importance } from './job';
import { ArgsError, parseArgs } from './argv';
import { DurationError, parseDuration } from './duration';
import { FeatureError, checkExpectedGain, checkGpus, checkImportance, checkRuntimeSec } from './features';

export const HEADER_LINES = 40;

export interface ScriptHeaderValues {
  args: string[];
  gpus: number;
  importance: Importance;
  expectedGain: number;
  runtimeSec: number;
}

export interface ScriptHeader {
  values: Partial<ScriptHeaderValues>;
  warnings: string[];
}

// `#` starts a comment in both Python and shell scripts, the two kinds TrainQ runs.
const HEADER = /^\s*#\s*trainq:(.*)$/i;

type Parser = (value: string) => ScriptHeaderValues[keyof ScriptHeaderValues];

const PARSERS: Readonly<Record<keyof ScriptHeaderValues, Parser>> = {
  args: (value) => parseArgs(value),
  gpus: (value) => {
    const gpus = /^\d+$/.test(value) ? Number(value) : value;
    checkGpus(gpus);
    return gpus;
  },
  importance: (value) => {
    const importance = value.toLowerCase();
    checkImportance(importance);
    return importance;
  },
  expectedGain: (value) => {
    const match = /^(\d+(?:\.\d+)?|\.\d+)%?$/.exec(value);
    const gain = match ? Number(match[1]) : value;
    checkExpectedGain(gain);
    return gain;
  },
  runtimeSec: (value) => {
    const runtimeSec = parseDuration(value);
    checkRuntimeSec(runtimeSec);
    return runtimeSec;
  },
};

// A Map, not an object literal, so that keys like "constructor" are unknown rather than inherited;
// `gpu` is accepted for `gpus` as an easy slip.
const KEYS: ReadonlyMap<string, keyof ScriptHeaderValues> = new Map([
  ['gpus', 'gpus'],
  ['gpu', 'gpus'],
  ['runtime', 'runtimeSec'],
  ['importance', 'importance'],
  ['gain', 'expectedGain'],
  ['args', 'args'],
]);
const DOCUMENTED_KEYS = 'gpus, runtime, importance, gain, args';

function firstLines(text: string, count: number): string[] {
  const lines: string[] = [];
  let start = 0;
  while (lines.length < count && start <= text.length) {
    const end = text.indexOf('\n', start);
    const stop = end < 0 ? text.length : end;
    lines.push(text.slice(start, stop).replace(/\r$/, ''));
    start = stop + 1;
  }
  return lines;
}

function isUserError(error: unknown): error is Error {
  return error instanceof ArgsError || error instanceof DurationError || error instanceof FeatureError;
}

export function parseScriptHeader(text: string): ScriptHeader {
  const values: Partial<ScriptHeaderValues> = {};
  const warnings: string[] = [];
  const setOn = new Map<keyof ScriptHeaderValues, number>();
  const lines = firstLines(text, HEADER_LINES);

  lines.forEach((line, index) => {
    const header = HEADER.exec(line);
    if (!header) {
      return;
    }
    const lineNo = index + 1;
    const warn = (message: string): void => {
      warnings.push(`Line ${lineNo}: ${message}`);
    };
    let tokens: string[];
    try {
      tokens = parseArgs(header[1]);
    } catch (error) {
      if (!isUserError(error)) {
        throw error;
      }
      warn(`${error.message} The line is ignored.`);
      return;
    }
    if (tokens.length === 0) {
      warn(`"# trainq:" is followed by nothing; expected key=value pairs (${DOCUMENTED_KEYS}).`);
    }
    for (const token of tokens) {
      const eq = token.indexOf('=');
      if (eq <= 0) {
        warn(`"${token}" is not key=value; expected one of ${DOCUMENTED_KEYS}.`);
        continue;
      }
      const name = token.slice(0, eq);
      const key = KEYS.get(name.toLowerCase());
      if (key === undefined) {
        warn(`unknown key "${name}"; expected one of ${DOCUMENTED_KEYS}.`);
        continue;
      }
      try {
        const parsed = PARSERS[key](token.slice(eq + 1).trim());
        const earlier = setOn.get(key);
        if (earlier !== undefined) {
          warn(`${name} was already set on line ${earlier}; using this line's value.`);
        }
        (values as Record<string, unknown>)[key] = parsed;
        setOn.set(key, lineNo);
      } catch (error) {
        if (!isUserError(error)) {
          throw error;
        }
        warn(`${name}: ${error.message}`);
      }
    }
  });
  return { values, warnings };
}
