// @module-tag e2e
// The editor schemas (`strata schema export`, docs/editors.md): the layer schemas, run with ajv over every
// plain values file the way an editor runs them, find the errors `strata validate` finds, at the same keys
// (none on the example repository; the deliberate ones on a fixture). Errors only the merged result can
// show (a missing required key, a reference's value) are out of a single file's reach by design.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml, type ScalarTag } from "yaml";
import { cleanupTempdirs, tempdir, writeTree } from "../support/gitdir.js";
import { exampleKeyEnv, projectRoot, strata } from "../support/cli.js";

afterAll(cleanupTempdirs);

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** `!unset` as the editor is told to read it (`yaml.customTags: ["!unset scalar"]`): an empty scalar. */
const unsetTag: ScalarTag = { tag: "!unset", resolve: () => null };

/** `file::namespace.dotted.key` of every error the layer schemas find in the repository's plain files. */
function layerSchemaErrors(root: string): Set<string> {
  const settings = JSON.parse(readFileSync(join(root, ".vscode/settings.json"), "utf8")) as {
    "yaml.schemas": Record<string, string[]>;
  };
  const out = new Set<string>();
  for (const [schemaFile, globs] of Object.entries(settings["yaml.schemas"])) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(root, schemaFile), "utf8")) as object);
    for (const glob of globs) {
      const m = /^environments\/\*\/([^/]+)\.yaml$/.exec(glob);
      expect(m, `glob ${glob}`).not.toBeNull();
      const namespace = m![1]!;
      for (const env of readdirSync(join(root, "environments"))) {
        const file = `environments/${env}/${namespace}.yaml`;
        if (!existsSync(join(root, file))) continue;
        const doc = parseYaml(readFileSync(join(root, file), "utf8"), { customTags: [unsetTag] }) as unknown;
        if (validate(doc ?? {})) continue;
        const paths = (validate.errors ?? []).map((e) => {
          const segments = e.instancePath.split("/").slice(1);
          if (e.keyword === "additionalProperties")
            segments.push(String((e.params as { additionalProperty: string }).additionalProperty));
          return segments;
        });
        // anyOf reports every branch and its parents: the deepest paths are the keys at fault.
        const keys = paths.filter((p) => !paths.some((q) => q.length > p.length && p.every((s, i) => q[i] === s)));
        for (const k of keys) out.add(`${file}::${[namespace, ...k].join(".")}`);
      }
    }
  }
  return out;
}

async function validateErrors(root: string, env: Record<string, string | undefined> = {}): Promise<Set<string>> {
  const r = await strata(["validate", "--format", "json", "--repo", root], { env });
  const doc = JSON.parse(r.stdout) as {
    findings: { severity: string; file: string | null; key: string | null; code: string }[];
  };
  return new Set(doc.findings.filter((f) => f.severity === "error").map((f) => `${f.file}::${f.key}`));
}

describe("layer schemas agree with strata validate", () => {
  it("the example repository: no errors either way", async () => {
    const errors = layerSchemaErrors(projectRoot);
    expect([...errors]).toEqual([]);
    expect([...(await validateErrors(projectRoot, exampleKeyEnv))]).toEqual([]);
  });

  it("a fixture with deliberate errors: the same files and keys", async () => {
    const root = tempdir();
    cpSync(join(projectRoot, "test/fixtures/layer-errors"), root, { recursive: true });
    const exported = await strata(["schema", "export", "--repo", root]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const expected = [
      "environments/production/app.yaml::app.port", // maximum
      "environments/production/app.yaml::app.log_level", // enum
      "environments/production/app.yaml::app.api_token", // x-sensitive in a plain file
      "environments/production/app.yaml::app.colour", // unknown key
      "environments/production/app.yaml::app.pool.max", // type
    ].sort();
    expect([...(await validateErrors(root))].sort()).toEqual(expected);
    expect([...layerSchemaErrors(root)].sort()).toEqual(expected);
  });
});

describe("strata schema export", () => {
  it("the example's committed .strata/ and .vscode/settings.json are what export writes today", async () => {
    const r = await strata(["schema", "export", "--check"]);
    expect(
      r.exitCode,
      `regenerate them with \`npm run build && node bin/strata.mjs schema export\` and commit them\n${r.stderr}`,
    ).toBe(0);
    expect(r.stdout).toContain("up to date (5 namespaces)");
  });

  it("the example's strata.yaml modeline points at a schema file that exists", () => {
    const first = readFileSync(join(projectRoot, "strata.yaml"), "utf8").split("\n")[0]!;
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(m).not.toBeNull();
    expect(JSON.parse(readFileSync(join(projectRoot, m![1]!), "utf8")).title).toBe("strata.yaml");
  });

  it("merges into an existing JSONC settings.json: comments, other keys and other schemas survive; stale strata entries go", async () => {
    const root = tempdir();
    cpSync(join(projectRoot, "test/fixtures/layer-errors"), root, { recursive: true });
    const existing = `// my settings
{
  "editor.tabSize": 4, // keep me
  "yaml.schemas": {
    "https://example.com/other.json": ["other/*.yaml"],
    "./.strata/schemas/gone.layer.schema.json": ["environments/*/gone.yaml"],
  },
  "yaml.customTags": ["!Ref scalar"],
}
`;
    writeTreeFile(root, ".vscode/settings.json", existing);
    writeTreeFile(root, ".strata/schemas/gone.layer.schema.json", "{}\n");
    const r = await strata(["schema", "export", "--repo", root]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("removed .strata/schemas/gone.layer.schema.json");
    const text = readFileSync(join(root, ".vscode/settings.json"), "utf8");
    expect(text).toContain("// my settings");
    expect(text).toContain(`"editor.tabSize": 4, // keep me`);
    expect(text).toMatch(/"https:\/\/example\.com\/other\.json": \[\s*"other\/\*\.yaml"\s*\]/);
    expect(text).not.toContain("gone.layer");
    expect(text).toMatch(/"\.\/\.strata\/schemas\/app\.layer\.schema\.json": \[\s*"environments\/\*\/app\.yaml"\s*\]/);
    expect(text).toMatch(/"!Ref scalar",\s*"!unset scalar"/);
    expect(existsSync(join(root, ".strata/schemas/gone.layer.schema.json"))).toBe(false);
    // Idempotent: a second export changes nothing.
    expect((await strata(["schema", "export", "--repo", root, "--check"])).exitCode).toBe(0);
  });

  it("refuses a settings.json it cannot read, naming file, line and column, and writes nothing to it", async () => {
    const root = tempdir();
    cpSync(join(projectRoot, "test/fixtures/layer-errors"), root, { recursive: true });
    const broken = `{\n  "editor.tabSize": 4\n  "yaml.schemas": {}\n}\n`;
    writeTreeFile(root, ".vscode/settings.json", broken);
    const r = await strata(["schema", "export", "--repo", root]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\.vscode\/settings\.json:3:3: not a JSON settings file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(root, ".vscode/settings.json"), "utf8")).toBe(broken);
    // --no-vscode leaves it alone and still exports the schemas.
    const r2 = await strata(["schema", "export", "--repo", root, "--no-vscode"]);
    expect(r2.exitCode, r2.stderr).toBe(0);
    expect(existsSync(join(root, ".strata/schemas/app.layer.schema.json"))).toBe(true);
  });

  it("schema errors: exit 1, located, nothing written", async () => {
    const root = tempdir();
    cpSync(join(projectRoot, "test/fixtures/layer-errors"), root, { recursive: true });
    writeTreeFile(root, "schemas/app.schema.yaml", "type: object\nproperties:\n  port: { type: integr }\n");
    const r = await strata(["schema", "export", "--repo", root]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/schemas\/app\.schema\.yaml:3:/);
    expect(existsSync(join(root, ".strata"))).toBe(false);
  });
});

describe("strata init and the editor files", () => {
  it("init writes the layer schemas, the VS Code settings and a .gitignore for keys, tokens and the store", async () => {
    const dir = join(tempdir(), "new");
    expect((await strata(["init", dir])).exitCode).toBe(0);
    const settings = JSON.parse(readFileSync(join(dir, ".vscode/settings.json"), "utf8"));
    expect(settings["yaml.customTags"]).toEqual(["!unset scalar"]);
    expect(settings["yaml.schemas"]).toEqual({
      "./.strata/schemas/app.layer.schema.json": ["environments/*/app.yaml"],
    });
    expect(existsSync(join(dir, ".strata/schemas/app.layer.schema.json"))).toBe(true);
    const gitignore = readFileSync(join(dir, ".gitignore"), "utf8").split("\n");
    for (const line of ["*.pem", "strata-tokens.json", ".strata/store/", "*.dec.yaml"])
      expect(gitignore).toContain(line);
    // What init wrote is what export writes.
    expect((await strata(["schema", "export", "--check", "--repo", dir])).exitCode).toBe(0);
  });

  it("init --existing writes only what is missing and says what it left alone", async () => {
    const root = tempdir();
    cpSync(join(projectRoot, "test/fixtures/layer-errors"), root, { recursive: true });
    writeTreeFile(root, ".gitignore", "node_modules\n*.pem\n");
    writeTreeFile(root, ".sops.yaml", "creation_rules: []\n");
    const before = readFileSync(join(root, "environments/production/app.yaml"), "utf8");
    const r = await strata(["init", "--existing", root]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote into .*:\n(.*\n)*\s+\.github\/workflows\/strata\.yml/);
    expect(r.stdout).toContain(".strata/schemas/app.layer.schema.json");
    expect(r.stdout).toMatch(/left alone \(already there\):\n(.*\n)*\s+\.sops\.yaml/);
    expect(r.stdout).toMatch(/strata\.yaml\s+add `# yaml-language-server: \$schema=\.strata\/strata\.schema\.json`/);
    expect(readFileSync(join(root, ".sops.yaml"), "utf8")).toBe("creation_rules: []\n");
    expect(readFileSync(join(root, "environments/production/app.yaml"), "utf8")).toBe(before);
    // No sample namespace or environment added to a repository that has its own.
    expect(existsSync(join(root, "schemas/app.schema.yaml"))).toBe(true);
    expect(readdirSync(join(root, "environments")).sort()).toEqual(["base", "production"]);
    const gitignore = readFileSync(join(root, ".gitignore"), "utf8");
    expect(gitignore.startsWith("node_modules\n*.pem\n")).toBe(true);
    expect(gitignore.match(/^\*\.pem$/gm)).toHaveLength(1);
    expect(gitignore).toContain("strata-tokens.json");
    // A second run writes nothing.
    const again = await strata(["init", "--existing", root]);
    expect(again.stdout).toContain("has everything init writes; nothing written");
  });

  it("plain init still refuses a directory with files, and points at --existing", async () => {
    const root = tempdir();
    writeTreeFile(root, "strata.yaml", "version: 1\nenvironments: {}\n");
    const r = await strata(["init", root]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("strata init --existing");
  });
});

function writeTreeFile(root: string, path: string, text: string): void {
  writeTree(root, { [path]: text });
}
