import type { Command } from "commander";
import { resolveWithCache } from "../../app/resolve-cache.js";
import { createFinding, exitCodeForFindings, StrataError, type Finding } from "../../core/findings.js";
import type { JsonObject, JsonValue } from "../../core/json.js";
import { keyWithoutValue } from "../../app/explain.js";
import { OUTPUT_FORMATS, toVariables } from "../../core/render/formats.js";
import { isDns1123Label, isDns1123Subdomain } from "../../core/render/handoff.js";
import { isUnderPrefix } from "../../core/render/variables.js";
import { redactConfig, SENSITIVE_PLACEHOLDER, sensitiveValues, valueAt } from "../../core/render-config.js";
import { registeredSecrets } from "../../core/redact.js";
import { createResultCache } from "../../io/cache/resolved.js";
import { openRepository, openSecrets, requireValue } from "../common.js";
import { attachAction, type OptionValues } from "../spec.js";
import { resolveCommand } from "../table.js";
import { renderFindingsText } from "../render/findings.js";
import { log, printData, printPlaintext } from "../output.js";

type ResolveOpts = OptionValues<typeof resolveCommand.options>;

export function register(program: Command): void {
  attachAction(program, resolveCommand, async (opts) => {
    checkOptions(opts);
    const { files } = openRepository(opts);
    // Only yaml and json can be answered from the result cache: the other forms need provenance (leaf
    // names, sensitivity) that it does not keep. A hit means no sensitive value (those are never cached).
    const cache = opts.format === "yaml" || opts.format === "json" ? createResultCache() : null;
    const outcome = await resolveWithCache({
      files,
      environment: opts.env,
      cache,
      secrets: () => openSecrets(Boolean(opts.skipSecrets), Boolean(opts.ignoreMac)),
    });
    const { resolved, findings } = outcome;
    const errors = findings.filter((f) => f.severity === "error");
    // Findings go to stderr: stdout carries the data only, and never data that failed validation.
    if (findings.length)
      log(
        renderFindingsText(
          findings,
          errors.length ? `✗ ${opts.env} does not resolve: ${errors.length} error(s)` : "",
        ).trimEnd(),
      );
    if (errors.length) {
      process.exitCode = exitCodeForFindings(findings);
      return;
    }
    const show = Boolean(opts.showSecrets);
    const prefix = opts.key ?? null;
    if (resolved === null) {
      const value = opts.key
        ? valueAt(outcome.config as unknown as Record<string, JsonValue>, opts.key)
        : (outcome.config as unknown as JsonValue);
      if (value === undefined) throw keyNotFound(opts.key ?? "", opts.env, outcome.config);
      printData(await OUTPUT_FORMATS[opts.format === "json" ? "json" : "yaml"].render(value));
      return;
    }
    if (opts.key && valueAt(resolved.config as unknown as Record<string, JsonValue>, opts.key) === undefined)
      throw keyNotFound(opts.key, opts.env, resolved.config);
    // Redaction is structural (redactConfig): the text redactor never touches data. Shown secrets are
    // masked, interpolated ones (a URL carrying a password) as well as the decrypted values themselves.
    const masks = (): string[] => [...registeredSecrets(), ...sensitiveValues(resolved.leaves.values())];
    const out = (text: string, extraMasks: string[] = []): void =>
      show ? printPlaintext(text, [...masks(), ...extraMasks]) : printData(text);
    const fail = (fs: Finding[], title: string): void => {
      log(renderFindingsText(fs, title).trimEnd());
      process.exitCode = exitCodeForFindings(fs);
    };

    const spec = OUTPUT_FORMATS[opts.format];
    const leaves = [...resolved.leaves.values()].filter((l) => isUnderPrefix(l.path, prefix));
    // yaml, json, dotenv: a `<sensitive>` placeholder must not reach a tool unnoticed (docs/deploy.md).
    if (opts.format === "yaml" || opts.format === "json" || opts.format === "dotenv") {
      const placeholders = show ? [] : leaves.filter((l) => l.sensitive).map((l) => l.path);
      if (placeholders.length && !opts.redact && !process.stdout.isTTY) {
        return fail(
          [placeholderFinding(placeholders, opts)],
          `✗ ${opts.env}: sensitive values would print as <sensitive>`,
        );
      }
    }
    if (spec.input === "tree") {
      const config = show ? resolved.config : redactConfig(resolved);
      const value: JsonValue | undefined = opts.key
        ? valueAt(config as unknown as Record<string, JsonValue>, opts.key)
        : (config as unknown as JsonValue);
      out(await spec.render(value!));
      return;
    }

    // Every variable format names variables alike and refuses two keys of one name.
    const { variables, findings: collisions } = toVariables(leaves);
    if (collisions.length) return fail(collisions, `✗ ${opts.format} output would be ambiguous`);
    if (spec.input === "manifest") {
      const secret = spec.kind === "Secret";
      const chosen = variables.filter((v) => v.leaf.sensitive === secret);
      const left = variables.filter((v) => v.leaf.sensitive !== secret).map((v) => v.leaf.path);
      const { text, findings: fs } = await spec.render(chosen, {
        name: requireValue(opts.name, "--name"),
        namespace: opts.namespace ?? null,
      });
      if (fs.length) return fail(fs, `✗ ${opts.format} output cannot carry ${fs.length} value(s)`);
      if (left.length)
        log(
          secret
            ? `note: the ${left.length} non-sensitive value(s) go in the ConfigMap (--format configmap)`
            : `note: ${left.length} sensitive value(s) go in the Secret (--format secret --show-secrets): ${left.join(", ")}`,
        );
      // The base64 forms are what a log would show: mask them too.
      out(text, secret ? chosen.map((v) => Buffer.from(v.text, "utf8").toString("base64")) : []);
      return;
    }
    let shown = variables;
    if (!show && opts.format === "env") {
      // The shell form leaves secrets out (with a warning) rather than writing placeholders.
      const omitted = variables.filter((v) => v.leaf.sensitive).map((v) => v.leaf.path);
      if (omitted.length)
        log(
          `warning: ${omitted.length} sensitive value(s) left out (${omitted.join(", ")}); pass --show-secrets to include them`,
        );
      shown = variables.filter((v) => !v.leaf.sensitive);
    } else if (!show) shown = variables.map((v) => (v.leaf.sensitive ? { ...v, text: SENSITIVE_PLACEHOLDER } : v));
    const { text, findings: fs } = spec.render(shown);
    if (fs.length) return fail(fs, `✗ ${opts.format} output cannot carry ${fs.length} value(s)`);
    out(text);
  });
}

function checkOptions(opts: ResolveOpts): void {
  if (opts.showSecrets && opts.skipSecrets)
    throw new StrataError("invalid-argument", "--show-secrets and --skip-secrets exclude each other");
  if (opts.showSecrets && opts.redact)
    throw new StrataError("invalid-argument", "--show-secrets and --redact exclude each other");
  const manifest = opts.format === "configmap" || opts.format === "secret";
  if (!manifest && (opts.name !== undefined || opts.namespace !== undefined))
    throw new StrataError("invalid-argument", "--name and --namespace go with --format configmap or secret");
  if (!manifest) return;
  if (opts.name === undefined)
    throw new StrataError("invalid-argument", `--format ${opts.format} needs --name`, {
      hint: "the manifest's metadata.name, e.g. --name checkout-config",
    });
  if (!isDns1123Subdomain(opts.name))
    throw new StrataError("invalid-argument", `--name ${JSON.stringify(opts.name)} is not a Kubernetes name`, {
      hint: "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters",
    });
  if (opts.namespace !== undefined && !isDns1123Label(opts.namespace))
    throw new StrataError(
      "invalid-argument",
      `--namespace ${JSON.stringify(opts.namespace)} is not a Kubernetes namespace`,
      { hint: "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters" },
    );
  if (opts.format === "secret" && !opts.showSecrets) {
    throw new StrataError("invalid-argument", "--format secret writes the sensitive values: it needs --show-secrets", {
      hint: "a Secret of placeholders would deploy placeholders; pass --show-secrets",
    });
  }
  if (opts.redact)
    throw new StrataError("invalid-argument", `--redact does not apply to --format ${opts.format}`, {
      hint: "a ConfigMap never holds sensitive values; a Secret always holds them",
    });
}

function placeholderFinding(paths: string[], opts: ResolveOpts): Finding {
  const fix = opts.skipSecrets
    ? "pass --redact if the placeholder is what you want (secrets are skipped, so there is no value to show)"
    : "pass --show-secrets to print the values, or --redact if the placeholder is what you want";
  return createFinding({
    code: "sensitive-placeholder",
    message: `${paths.length} sensitive value(s) would reach a pipe or file as the text <sensitive>: ${paths.join(", ")}`,
    environment: opts.env,
    hint: fix,
  });
}

/** Exit 2 with the closest key (explain and resolve --key say the same). */
function keyNotFound(key: string, env: string, config: Record<string, JsonObject>): StrataError {
  return keyWithoutValue(key, env, config, Object.keys(config));
}
