/**
 * Wording shared by the messages core, hosts and views write. English only, and counted nouns are
 * regular ("1 GPU", "2 GPUs"); a noun that is not would need its plural passed in.
 */

/** `3 GPUs`, `1 node`: the count and the noun, plural unless the count is exactly one. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
