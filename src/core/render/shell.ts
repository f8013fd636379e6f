/** POSIX shell words: the one quoting rule for everything strata writes for a shell to read. */

/** A single-quoted shell word: any text, read back unchanged by sh, bash, zsh and dash. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** As {@link shellQuote}, leaving words that need no quoting (paths, flags) as they are, for people to read. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : shellQuote(s);
}
