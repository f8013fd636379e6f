/**
 * Go's number formatting, byte for byte: sops encrypts, MACs and prints numbers the way `strconv` and
 * `encoding/json` write them, so strata must too.
 */

/** Shortest round-trip digits and decimal exponent of a finite non-zero number. */
function shortestDigits(v: number): { digits: string; exp: number } {
  const [mant = "0", e = "0"] = Math.abs(v).toExponential().split("e");
  return { digits: mant.replace(".", ""), exp: Number(e) };
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return null;
}

function sign(v: number): string {
  return v < 0 || Object.is(v, -0) ? "-" : "";
}

/** `strconv.FormatFloat(v, 'f', -1, 64)`: never exponent notation. */
export function formatFloatF(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  if (v === 0) return sign(v) + "0";
  const { digits, exp } = shortestDigits(v);
  let out: string;
  if (exp >= digits.length - 1) out = digits + "0".repeat(exp - digits.length + 1);
  else if (exp >= 0) out = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  else out = "0." + "0".repeat(-exp - 1) + digits;
  return sign(v) + out;
}

function formatE(v: number, digits: string, exp: number): string {
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${sign(v)}${mant}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
}

/** `strconv.FormatFloat(v, 'g', -1, 64)`, as go-yaml prints floats. */
export function formatFloatG(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  if (v === 0) return sign(v) + "0";
  const { digits, exp } = shortestDigits(v);
  // strconv: "if precision was the shortest possible, use precision 6 for this decision".
  if (exp < -4 || exp >= 6) return formatE(v, digits, exp);
  return formatFloatF(v);
}

/** go-yaml's float scalar text (`.inf`, `.nan`). */
export function formatYamlFloat(v: number): string {
  if (Number.isNaN(v)) return ".nan";
  if (v === Infinity) return ".inf";
  if (v === -Infinity) return "-.inf";
  return formatFloatG(v);
}

/** `encoding/json`'s float text. */
export function formatJsonFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`JSON cannot represent ${v}`);
  if (Object.is(v, -0)) return "-0";
  // Go switches to exponent form outside [1e-6, 1e21) and trims "e-07" to "e-7": exactly what JS does.
  return String(v);
}
