/** A file that is not a well-formed document of its store; use cases turn it into a StrataError. */
export class SopsFormatError extends Error {}

/** The file has no `sops` metadata: it is not encrypted (sops' MetadataNotFound). */
export class MetadataNotFoundError extends SopsFormatError {
  constructor() {
    super("sops metadata not found");
  }
}

/**
 * The YAML exceeds the limits every strata YAML reader enforces (alias expansions, nesting depth): an alias
 * bomb would otherwise take minutes and gigabytes. Located, 1-based.
 */
export class SopsLimitError extends SopsFormatError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}
