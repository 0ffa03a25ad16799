/**
 * One reported point of a metric: shared by the metrics protocol (what a job reported) and the sweep
 * types (a trial's curve), in a file of its own so neither has to import the other's module.
 */
export interface MetricPoint {
  /** The script's step (epoch, iteration); the report's index when it gave none. */
  step: number;
  value: number;
}
