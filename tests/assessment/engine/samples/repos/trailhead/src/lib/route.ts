export interface Leg { from: string; to: string; km: number; ascentM: number }

/** Naismith's rule: 5 km/h plus an hour per 600 m of ascent. */
export function walkingMinutes(legs: Leg[]): number {
  return legs.reduce((total, leg) => total + (leg.km / 5) * 60 + (leg.ascentM / 600) * 60, 0);
}
