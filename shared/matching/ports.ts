import type { MetricCount } from '#reporting/ports.ts';

/**
 * How many referrals each service has been matched to in a week, for services' weekly limits. The router counts
 * them (MetricCounters.countOnce with `weeklyMatchCount`, the week as the counter's day, the referral id as the
 * unit) and reads them here before deciding.
 */
export interface ServiceLoad {
  /** Referrals matched to each service in `week` (`2025-W10`), by service id; one read per service asked about. */
  matchedInWeek(serviceIds: readonly string[], week: string): Promise<Record<string, number>>;
}

/** The counter of referrals matched to a service, kept per ISO week. */
export const weeklyMatchCount = (serviceId: string): MetricCount => ({
  name: 'services.matched',
  dimensions: { service: serviceId },
});
