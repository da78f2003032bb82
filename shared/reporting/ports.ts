/** Exact counts for the figures ops and commissioners read: each unit is counted once, however often it is seen. */

export interface MetricCount {
  name: string;
  dimensions?: Record<string, string>;
}

export interface MetricCounters {
  /** Adds one to each counter for `day`, once per `unitId`: a repeat with the same unit adds nothing. */
  countOnce(counts: MetricCount[], day: string, unitId: string): Promise<void>;
}
