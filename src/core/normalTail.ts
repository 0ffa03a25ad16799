/**
 * The normal distribution's upper tail, for censored run times: a run cancelled after c seconds ran at
 * least that long, and its expected length given that is the mean plus sd × millsRatio((c − mean) ÷ sd).
 */

/** φ(a) / (1 − Φ(a)): how far above the mean a normal variable lies on average, given it exceeds mean + a·sd. */
export function millsRatio(a: number): number {
  if (a > 8) {
    return a + 1 / a;
  }
  const phi = Math.exp(-0.5 * a * a) / Math.sqrt(2 * Math.PI);
  return phi / Math.max(1e-300, 0.5 * erfc(a / Math.SQRT2));
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851973 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
