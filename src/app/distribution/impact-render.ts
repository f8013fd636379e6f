/**
 * `strata impact` for people: text for a terminal, markdown for the pull request's comment and the job
 * summary. Key paths and client names come from repositories and client headers: they are shown escaped
 * (control, bidirectional and zero-width characters as \u{…}; markdown and HTML inert), never as written.
 */
import { formatShare } from "../../core/rollout/index.js";
import type { ImpactMetric, ImpactReport } from "./impact.js";

/** How many key paths a report lists before it says "and N more". */
const MAX_KEYS_SHOWN = 50;
const MAX_CLIENTS_SHOWN = 20;

// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;

/** A name as text that cannot move the cursor, hide characters or reverse what follows it. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A name as inline code in markdown: HTML-escaped inside `<code>` (a backtick cannot close it). */
function code(text: string): string {
  const escaped = visible(text).replace(/[&<>"'|\\`*_[\]]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<code>${escaped}</code>`;
}

function label(r: ImpactReport): string {
  return r.service === null ? r.environment : `${r.environment}/${r.service}`;
}

function fmt(x: number, digits: number): string {
  return Number(x.toFixed(digits)).toString();
}

function signed(x: number, digits: number): string {
  return `${x >= 0 ? "+" : ""}${fmt(x, digits)}`;
}

/** A metric's value: a rate as a percentage, a latency in milliseconds. */
function value(m: ImpactMetric, x: number | null): string {
  if (x === null) return "—";
  return m.metric === "latency" ? `${fmt(x, 1)}ms` : `${fmt(x * 100, 2)}%`;
}

/** A difference: percentage points for rates, milliseconds for latency. */
function delta(m: ImpactMetric, x: number): string {
  return m.metric === "latency" ? `${signed(x, 1)}ms` : `${signed(x * 100, 2)} pts`;
}

function interval(m: ImpactMetric): string {
  if (m.interval === null) return "—";
  const conf = m.confidence === null ? "" : ` (${fmt(m.confidence * 100, 2)}%)`;
  return `${delta(m, m.interval[0])} to ${delta(m, m.interval[1])}${conf}`;
}

function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function sourceLine(r: ImpactReport): string {
  const parts = [
    r.source.commit === null ? null : `commit ${r.source.commit.slice(0, 12)}`,
    r.source.pullRequest === null ? null : `pull request #${r.source.pullRequest}`,
    r.rollbackOf === null ? null : `a rollback to the content of v${r.rollbackOf}`,
  ].filter((p) => p !== null);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function compared(r: ImpactReport): string {
  if (r.baseline === null) return "the first version: every key is new";
  return r.baseline.why === "rollout-stable"
    ? `compared with v${r.baseline.version}, its rollout's stable version`
    : `compared with v${r.baseline.version}, the version before it`;
}

function keysSummary(r: ImpactReport): string {
  const n = r.keys.changed.length;
  const s = r.keys.sensitive.length;
  return `${n} key${n === 1 ? "" : "s"} changed${s > 0 ? `, ${s} sensitive key${s === 1 ? "" : "s"} whose ciphertext changed` : ""}`;
}

function decisionHeadline(r: ImpactReport): string {
  if (r.rollout === null) return "no rollout figures";
  const phase = r.rollout.phase;
  const share = formatShare(r.rollout.percent);
  return phase === "progressing" || phase === "paused"
    ? `${phase} at ${share} of clients`
    : phase === "rolled-back"
      ? "ROLLED BACK"
      : phase;
}

export function renderImpactText(r: ImpactReport): string {
  const lines: string[] = [];
  lines.push(`${visible(label(r))} v${r.version}${sourceLine(r)}: ${decisionHeadline(r)}`);
  lines.push(`keys: ${keysSummary(r)}; ${compared(r)}`);
  for (const k of r.keys.changed.slice(0, MAX_KEYS_SHOWN)) lines.push(`  ${visible(k)}`);
  for (const k of r.keys.sensitive.slice(0, MAX_KEYS_SHOWN)) lines.push(`  ${visible(k)} (sensitive: value not read)`);
  const more =
    Math.max(0, r.keys.changed.length - MAX_KEYS_SHOWN) + Math.max(0, r.keys.sensitive.length - MAX_KEYS_SHOWN);
  if (more > 0) lines.push(`  … and ${more} more (--format json lists them all)`);

  const reported =
    r.clients.reported === null ? "" : `; ${count(r.clients.reported)} instance(s) reported on it during its rollout`;
  lines.push(
    `clients: ${r.clients.running.length} run v${r.version} now, ${r.clients.elsewhere} run another version${reported}`,
  );
  for (const c of r.clients.running.slice(0, MAX_CLIENTS_SHOWN))
    lines.push(
      `  ${visible(c.service)}/${visible(c.instance)} [${c.kind ?? "?"}] ${c.state}${c.connected ? ", connected" : ""}`,
    );
  if (r.clients.running.length > MAX_CLIENTS_SHOWN)
    lines.push(`  … and ${r.clients.running.length - MAX_CLIENTS_SHOWN} more`);

  if (r.rollout === null) lines.push(`rollout: ${r.noRollout}`);
  else {
    const ro = r.rollout;
    lines.push(
      `rollout: ${ro.policy}; v${ro.stable} → v${ro.candidate}, ${ro.phase}, ${formatShare(ro.percent)} on the candidate${ro.planVersion === null ? "" : `, plan ${ro.planVersion}`}`,
    );
    for (const m of r.metrics) {
      const what = m.comparison === "candidate-vs-control" ? `gate ${visible(m.name)}` : `before/after ${m.name}`;
      const diff = m.difference === null ? "" : ` (${delta(m, m.difference)}, interval ${interval(m)})`;
      lines.push(
        `  ${what}: v${m.candidate.version} ${value(m, m.candidate.value)} vs v${m.control.version} ${value(m, m.control.value)}${diff}; ${count(m.candidate.samples)} / ${count(m.control.samples)} samples${m.verdict === null ? "" : `; ${m.verdict.toUpperCase()}`}`,
      );
      if (m.verdict !== null || m.comparison === "before-after") lines.push(`    ${visible(m.detail)}`);
    }
  }
  if (r.decision !== null) {
    lines.push(
      `decision: ${r.decision.action} at ${r.decision.at} by ${visible(r.decision.actor)}: ${visible(r.decision.reason)}`,
    );
    for (const b of r.decision.breaches) lines.push(`  breach: ${visible(b.detail)}`);
  }
  return lines.join("\n");
}

export function renderImpactMarkdown(r: ImpactReport): string {
  const icon =
    r.rollout === null ? "ℹ️" : r.rollout.phase === "rolled-back" ? "❌" : r.rollout.phase === "promoted" ? "✅" : "⏳";
  const out: string[] = [];
  out.push(`### ${icon} Impact of ${code(label(r))} v${r.version}: ${decisionHeadline(r)}`, "");
  if (r.decision !== null) {
    out.push(
      `**Decision:** ${r.decision.action} (${r.decision.at}, by ${code(r.decision.actor)}): ${escapeText(r.decision.reason)}`,
      "",
    );
    for (const b of r.decision.breaches) out.push(`- breach of ${code(b.gate)}: ${escapeText(b.detail)}`);
    if (r.decision.breaches.length > 0) out.push("");
  } else if (r.rollout === null) out.push(`_${escapeText(r.noRollout ?? "")}_`, "");

  out.push(`**Keys** (${keysSummary(r)}; ${compared(r)}; values are never shown):`, "");
  const keys = [...r.keys.changed.map((k) => code(k)), ...r.keys.sensitive.map((k) => `${code(k)} (sensitive)`)];
  if (keys.length === 0) out.push("- none");
  for (const k of keys.slice(0, MAX_KEYS_SHOWN)) out.push(`- ${k}`);
  if (keys.length > MAX_KEYS_SHOWN) out.push(`- … and ${keys.length - MAX_KEYS_SHOWN} more`);
  out.push("");

  const reported =
    r.clients.reported === null ? "" : `, ${count(r.clients.reported)} reported on it during its rollout`;
  out.push(
    `**Clients:** ${r.clients.running.length} run v${r.version} now, ${r.clients.elsewhere} another version${reported}.`,
    "",
  );

  if (r.rollout !== null) {
    const ro = r.rollout;
    out.push(
      `**Rollout:** ${escapeText(ro.policy)}; v${ro.stable} → v${ro.candidate}, ${ro.phase}, ${formatShare(ro.percent)} on the candidate.`,
      "",
    );
    if (r.metrics.length > 0) {
      out.push(
        "| Comparison | Metric | Candidate | Control | Difference | Interval | Samples | Verdict |",
        "|---|---|---|---|---|---|---|---|",
      );
      for (const m of r.metrics) {
        const kind = m.comparison === "candidate-vs-control" ? "candidate vs control" : "before / after";
        out.push(
          `| ${kind} | ${code(m.name)} | v${m.candidate.version}: ${value(m, m.candidate.value)} | v${m.control.version}: ${value(m, m.control.value)} | ${m.difference === null ? "—" : delta(m, m.difference)} | ${interval(m)} | ${count(m.candidate.samples)} / ${count(m.control.samples)} | ${m.verdict ?? "—"} |`,
        );
      }
      out.push("");
    }
  }
  out.push(
    `<sub>strata impact --env ${escapeText(r.environment)} --version ${r.version} · ${r.digest.slice(0, 19)}…</sub>`,
  );
  return out.join("\n");
}

/** Free text (reasons, details) in markdown: no HTML, no links, no table breaks. */
function escapeText(text: string): string {
  return visible(text)
    .replace(/[&<>|\\`*_[\]]/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/\r?\n/g, " ");
}
