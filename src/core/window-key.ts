/** An evaluated window of one model: what drift results, verdicts and alerts are keyed by. */
export interface WindowKey {
  windowStart: string;
  windowSeconds: number;
  model: string;
  referenceVersion: number;
  events: number;
}
