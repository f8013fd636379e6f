/**
 * Always-valid comparisons of the candidate cohort with the concurrent control (docs/rollouts.md,
 * "Statistics").
 *
 * A rollout looks at its data again with every report, for as long as it runs. A fixed-sample test checked
 * that way rejects a true null far more often than its level says (ten looks at 5% reject about 20% of the
 * time). So the gates use a confidence sequence: intervals that contain the true difference at every time
 * at once with probability at least 1 − α, however often and whenever they are looked at, and whenever the
 * rollout stops.
 *
 * The sequence is the normal-mixture boundary of Robbins (1970), the one behind the mixture sequential
 * probability ratio test (mSPRT) of Johari, Koomen, Pekelis and Walsh ("Always valid inference", 2017/2022)
 * and the asymptotic confidence sequences of Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas ("Time-uniform
 * central limit theory and asymptotic confidence sequences", 2021). For an estimate θ̂ with variance V (the
 * inverse of the information gathered so far), mixing the likelihood ratio over θ ~ N(θ̂₀, τ²) gives
 *
 *   Λ = sqrt(V / (V + τ²)) · exp( τ² (θ̂ − θ₀)² / (2 V (V + τ²)) ),
 *
 * a nonnegative martingale under θ₀ in information time, so by Ville's inequality P(ever Λ ≥ 1/α) ≤ α. The
 * θ₀ it has not rejected form the interval θ̂ ± h with
 *
 *   h² = V (V + τ²) / τ² · ( 2 ln(1/α) + ln((V + τ²) / V) ).
 *
 * The variance is estimated from the data (the normal approximation to the difference of two rates or two
 * means), so the guarantee is asymptotic: it holds once each cohort has enough samples, which is what a
 * gate's minimum sample size is for. τ is the gate's own threshold: the mixture is most powerful for
 * differences of about the size that matters.
 */

/** Bernoulli outcomes of one cohort: `events` bad ones among `trials`. */
export interface RateSample {
  events: number;
  trials: number;
}

/** Summary of real-valued observations of one cohort (latencies). */
export interface MeanSample {
  count: number;
  sum: number;
  sumSquares: number;
}

/** The candidate-minus-control difference and its always-valid interval. */
export interface Comparison {
  /** Candidate minus control (rates as fractions; means in the observations' unit). */
  estimate: number;
  lower: number;
  upper: number;
  candidate: number;
  control: number;
}

/** The half-width of the normal-mixture confidence sequence at variance V, mixing variance τ² and level α. */
export function mixtureHalfWidth(variance: number, tau: number, alpha: number): number {
  if (!(variance > 0)) return 0;
  const t2 = tau * tau;
  return Math.sqrt(
    ((variance * (variance + t2)) / t2) * (2 * Math.log(1 / alpha) + Math.log((variance + t2) / variance)),
  );
}

/**
 * Candidate rate minus control rate. The variance of each rate uses (events + ½) / (trials + 1) so that a
 * cohort with no errors yet does not claim a variance of zero (the interval of "0 errors in 1,000" is then
 * about as wide as the rule of three says it should be, not a point).
 */
export function compareRates(candidate: RateSample, control: RateSample, alpha: number, tau: number): Comparison {
  const p1 = candidate.events / candidate.trials;
  const p0 = control.events / control.trials;
  const v = smoothedVariance(candidate) / candidate.trials + smoothedVariance(control) / control.trials;
  const h = mixtureHalfWidth(v, tau, alpha);
  const d = p1 - p0;
  return { estimate: d, lower: d - h, upper: d + h, candidate: p1, control: p0 };
}

function smoothedVariance(s: RateSample): number {
  const p = (s.events + 0.5) / (s.trials + 1);
  return p * (1 - p);
}

/** Candidate mean minus control mean, with each cohort's sample variance. */
export function compareMeans(candidate: MeanSample, control: MeanSample, alpha: number, tau: number): Comparison {
  const m1 = candidate.sum / candidate.count;
  const m0 = control.sum / control.count;
  const v = sampleVariance(candidate) / candidate.count + sampleVariance(control) / control.count;
  const h = mixtureHalfWidth(v, tau, alpha);
  const d = m1 - m0;
  return { estimate: d, lower: d - h, upper: d + h, candidate: m1, control: m0 };
}

/** The unbiased sample variance from count, sum and sum of squares (never negative from rounding). */
export function sampleVariance(s: MeanSample): number {
  if (s.count < 2) return 0;
  const mean = s.sum / s.count;
  return Math.max(0, (s.sumSquares - s.count * mean * mean) / (s.count - 1));
}
