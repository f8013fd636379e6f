/** A file that is not a well-formed document of its store; use cases turn it into a StrataError. */
export class SopsFormatError extends Error {}

/** The file has no `sops` metadata: it is not encrypted (sops' MetadataNotFound). */
export class MetadataNotFoundError extends SopsFormatError {
  constructor() {
    super("sops metadata not found");
  }
}
