/**
 * The translator the editor-free format modules (jobFormat, hostFormat, etaFormat, sweepViewModel,
 * dashboardModel) call as `t('…{0}…', arg)`: English with `{n}` substituted until the composition root
 * points it at vscode.l10n.t on activation (setTranslator), so those modules stay plain Node and
 * unit-testable. scripts/l10nBundle.mjs collects the literal first arguments of `t(...)` in files that
 * import this module, as it does those of vscode.l10n.t.
 */
export type L10nArg = string | number | boolean;
export type Translator = (message: string, ...args: L10nArg[]) => string;

/** Substitutes `{0}`..`{n}` with the arguments; a placeholder with no argument stays as written. */
export function formatMessage(message: string, args: readonly L10nArg[]): string {
  return message.replace(/\{(\d+)\}/g, (whole, index: string) => {
    const i = Number(index);
    return i < args.length ? String(args[i]) : whole;
  });
}

const english: Translator = (message, ...args) => formatMessage(message, args);
let current: Translator = english;
let generation = 0;

/** Sets the translator (vscode.l10n.t at activation); no argument restores plain English. */
export function setTranslator(translator?: Translator): void {
  current = translator ?? english;
  generation += 1;
}

/** Changes with each setTranslator: a cache of translated text (jobFormat's memoize) starts over when it does. */
export function translatorGeneration(): number {
  return generation;
}

/** A user-facing string: one literal message with `{n}` placeholders, then its arguments. */
export function t(message: string, ...args: L10nArg[]): string {
  return current(message, ...args);
}
