// Private helpers shared by the geometry modules.

/** Wraps an angle in radians into [-pi/2, pi/2) (a box is unchanged by a turn of pi). */
export function normalizeHalfTurn(angle: number): number {
  let a = angle - Math.PI * Math.floor((angle + Math.PI / 2) / Math.PI);
  // Rounding can land exactly on the excluded end or a hair outside the range.
  if (a >= Math.PI / 2) a -= Math.PI;
  if (a < -Math.PI / 2) a += Math.PI;
  return a;
}
