/**
 * Where the repository's files come from: the working tree, or the git objects of one commit (diff,
 * log). Resolution reads through this interface only, so it never cares which.
 */
export interface RepoFiles {
  /** A label for messages: the directory, or `<ref> (<sha>)`. */
  readonly label: string;
  /** POSIX paths relative to the repository root of every file under the given prefixes. */
  list(prefixes: readonly string[]): Promise<string[]>;
  /** The file's bytes, or null when it does not exist. */
  read(path: string): Promise<Uint8Array | null>;
}

/** Opens SOPS files for resolution. Implemented over the SOPS engine and the key sources (io/keys). */
export interface SecretsOpener {
  /**
   * Decrypts one SOPS file and returns its plaintext document (the `sops` metadata removed), or throws a
   * StrataError with code `decryption-failed`, `mac-mismatch` or `mac-missing`.
   */
  open(path: string, bytes: Uint8Array): Promise<unknown>;
}
