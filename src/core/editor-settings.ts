/**
 * `.vscode/settings.json` for the layer schemas: strata's entries merged into whatever the file already
 * holds. VS Code's settings files are JSONC (comments, trailing commas), so the merge edits the text with
 * jsonc-parser instead of parsing and re-printing it: the user's comments, order and other keys survive.
 */
import { applyEdits, modify, parse, printParseErrorCode, type FormattingOptions, type ParseError } from "jsonc-parser";
import { errorAt, StrataError } from "./findings.js";
import { docsUrl } from "./docs.js";

export interface EditorEntries {
  /** schema file (as VS Code names it, `./…`) -> globs of the files it applies to */
  "yaml.schemas": Record<string, string[]>;
  "yaml.customTags": string[];
}

/** Schema files strata manages in `yaml.schemas`: entries under this prefix that are no longer exported go. */
const MANAGED_SCHEMA_PREFIX = "./.strata/schemas/";

const FORMAT: FormattingOptions = { insertSpaces: true, tabSize: 2, eol: "\n" };

/**
 * The settings text with strata's entries merged in. `existing` null: a new file. `file` names the file
 * in errors. An unreadable file (not JSONC, or `yaml.schemas` not an object) is refused, never replaced.
 */
export function mergeEditorSettings(existing: string | null, entries: EditorEntries, file: string): string {
  if (existing === null || existing.trim() === "") return JSON.stringify(entries, null, 2) + "\n";
  const errors: ParseError[] = [];
  const current = parse(existing, errors, { allowTrailingComma: true, disallowComments: false }) as unknown;
  if (errors.length > 0) {
    const e = errors[0]!;
    const { line, column } = lineColumn(existing, e.offset);
    throw errorAt(
      "invalid-argument",
      { file, line, column },
      `not a JSON settings file (${printParseErrorCode(e.error)}); nothing was written to it`,
      { hint: `fix the file, or add yaml.schemas and yaml.customTags by hand (${docsUrl("editors")})` },
    );
  }
  if (current === null || typeof current !== "object" || Array.isArray(current)) {
    throw errorAt(
      "invalid-argument",
      { file, line: 1, column: 1 },
      "the settings are not a JSON object; nothing was written to it",
    );
  }
  const settings = current as Record<string, unknown>;
  let text = existing;
  const edit = (path: (string | number)[], value: unknown): void => {
    text = applyEdits(text, modify(text, path, value, { formattingOptions: FORMAT }));
  };

  const schemas = settings["yaml.schemas"];
  if (schemas !== undefined && (schemas === null || typeof schemas !== "object" || Array.isArray(schemas))) {
    throw new StrataError("invalid-argument", `${file}: "yaml.schemas" is not an object; nothing was written to it`, {
      hint: `make it an object of schema file -> globs (${docsUrl("editors")})`,
    });
  }
  if (schemas === undefined) edit(["yaml.schemas"], entries["yaml.schemas"]);
  else {
    const have = schemas as Record<string, unknown>;
    for (const key of Object.keys(have)) {
      if (key.startsWith(MANAGED_SCHEMA_PREFIX) && !Object.hasOwn(entries["yaml.schemas"], key))
        edit(["yaml.schemas", key], undefined);
    }
    for (const [key, globs] of Object.entries(entries["yaml.schemas"])) {
      if (JSON.stringify(have[key]) !== JSON.stringify(globs)) edit(["yaml.schemas", key], globs);
    }
  }

  const tags = settings["yaml.customTags"];
  if (tags === undefined) edit(["yaml.customTags"], entries["yaml.customTags"]);
  else if (!Array.isArray(tags)) {
    throw new StrataError("invalid-argument", `${file}: "yaml.customTags" is not an array; nothing was written to it`);
  } else {
    // -1: append to the array, after the user's own tags.
    for (const tag of entries["yaml.customTags"]) if (!tags.includes(tag)) edit(["yaml.customTags", -1], tag);
  }
  return text.endsWith("\n") ? text : text + "\n";
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
