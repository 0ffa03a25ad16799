/**
 * The rules for the variables a user gives a job (inline, in a `.env` file, in a script header), and
 * how their values are shown: a name that looks like a secret has its value masked in the views.
 */
import { ArgsError, formatArgs, parseArgs } from './argv';
import { ENV_NAME } from './job';

/**
 * TrainQ sets CUDA_VISIBLE_DEVICES (the GPUs it assigned) and TRAINQ_* (the job id, the metrics file,
 * a sweep trial's parameters, the wrapper's settings) itself; a user value would hand the job GPUs or
 * an identity that are not its own. The hosts refuse the names they set (hosts/jobEnv.ts); users may
 * not take any TRAINQ_ name, so a later one of TrainQ's cannot collide with a user's.
 */
export function userEnvNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) {
    return `'${name}' is not a variable name (letters, digits, _; not starting with a digit)`;
  }
  if (name === 'CUDA_VISIBLE_DEVICES') {
    return 'CUDA_VISIBLE_DEVICES is set by TrainQ to the GPUs it assigns (ask for GPUs instead)';
  }
  if (name.toUpperCase().startsWith('TRAINQ_')) {
    return `${name} is reserved: names starting with TRAINQ_ are set by TrainQ`;
  }
  return undefined;
}

/** Words that make a variable's value a secret for display: API_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASS, … */
const SECRET_NAME = /TOKEN|SECRET|PASSW|PASS|PWD|KEY|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|SIGNATURE|CERT/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** NAME=value for the views; the value of a secret-looking name is replaced by bullets. */
export function displayEnv(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${looksSecret(k) ? '••••••' : v}`);
}

export class EnvInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvInputError';
  }
}

/**
 * Variables typed on one line, `A=1 B="x y"`, split and quoted like the arguments line (argv.ts):
 * no expansion, so `$(…)`, backticks and `$HOME` stay literal. A word without `=` or with a bad or
 * reserved name is refused with one message; values are never quoted in it.
 */
export function parseEnvAssignments(text: string): Record<string, string> {
  let words: string[];
  try {
    words = parseArgs(text);
  } catch (e) {
    throw new EnvInputError(e instanceof ArgsError ? `Environment: ${e.message}` : String(e));
  }
  const env: Record<string, string> = {};
  words.forEach((word, i) => {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      throw new EnvInputError(`Environment: word ${i + 1} is not NAME=value.`);
    }
    const name = word.slice(0, eq);
    const problem = userEnvNameProblem(name);
    if (problem) {
      throw new EnvInputError(`Environment: ${ENV_NAME.test(name) ? problem : `word ${i + 1} does not start with a variable name`}.`);
    }
    // ENV_NAME matches "__proto__": define the property, as assigning it would set the prototype.
    Object.defineProperty(env, name, { value: word.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  });
  return env;
}

/** The inverse of parseEnvAssignments, for prefilling the input: parse(format(env)) equals env. */
export function formatEnvAssignments(env: Readonly<Record<string, string>>): string {
  return formatArgs(Object.entries(env).map(([k, v]) => `${k}=${v}`));
}
