/** The AGE-SECRET-KEY lines of an identity text (comments and blank lines ignored). */
export function parseAgeIdentities(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#") && l.toUpperCase().startsWith("AGE-SECRET-KEY-"));
}
