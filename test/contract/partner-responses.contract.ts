import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PartnerResponses } from '#reporting/ports.ts';

/**
 * What PartnerResponses promises (a partner's answers counted once per offer, by day, read back over a window), run
 * against the in-memory fake (test/unit/partner-responses.contract.test.ts) and the DynamoDB adapter on the local
 * DynamoDB (test/integration/partner-responses.contract.test.ts).
 */
export function describePartnerResponsesContract(
  name: string,
  make: () => PartnerResponses | Promise<PartnerResponses>,
): void {
  describe(`PartnerResponses contract: ${name}`, () => {
    let responses: PartnerResponses;
    let partnerId: string;

    beforeEach(async () => {
      responses = await make();
      // A partner of its own per case, so one table serves the whole suite.
      partnerId = `contract-${randomUUID()}`;
    });

    const at = (day: string) => `${day}T10:00:00.000Z`;

    it('an answer recorded twice, or at once from several places, counts once', async () => {
      const answer = {
        partnerId,
        offerId: 'o-1',
        at: at('2026-11-02'),
        outcome: 'accepted',
        responseHours: 3,
      } as const;
      await responses.recordOnce(answer);
      await responses.recordOnce(answer);
      await Promise.all(Array.from({ length: 4 }, () => responses.recordOnce(answer)));
      await expect(responses.figures(partnerId, '2026-11-01', '2026-11-30')).resolves.toEqual([
        { day: '2026-11-02', accepted: 1, declined: {}, expired: 0, bands: { 'within-4h': 1 } },
      ]);
    });

    it('counts each outcome, decline reasons by code, bands by response time, expiries apart', async () => {
      const day = '2026-11-03';
      await responses.recordOnce({
        partnerId,
        offerId: 'o-1',
        at: at(day),
        outcome: 'accepted',
        responseHours: 0.5,
      });
      await responses.recordOnce({
        partnerId,
        offerId: 'o-2',
        at: at(day),
        outcome: 'declined',
        reason: 'no-capacity',
        responseHours: 30,
      });
      await responses.recordOnce({
        partnerId,
        offerId: 'o-3',
        at: at(day),
        outcome: 'declined',
        reason: 'no-capacity',
        responseHours: 24,
      });
      await responses.recordOnce({
        partnerId,
        offerId: 'o-4',
        at: at(day),
        outcome: 'declined',
        reason: 'not-eligible',
        responseHours: 400,
      });
      await responses.recordOnce({ partnerId, offerId: 'o-5', at: at(day), outcome: 'expired' });
      // The same offer again with another outcome the same day: one answer per offer.
      await responses.recordOnce({
        partnerId,
        offerId: 'o-5',
        at: at(day),
        outcome: 'accepted',
        responseHours: 1,
      });
      await expect(responses.figures(partnerId, day, day)).resolves.toEqual([
        {
          day,
          accepted: 1,
          declined: { 'no-capacity': 2, 'not-eligible': 1 },
          expired: 1,
          bands: { 'within-1h': 1, 'within-24h': 1, 'within-48h': 1, 'over-336h': 1 },
        },
      ]);
    });

    it('reads the days of the window only, in order, and only the partner asked for', async () => {
      const other = `${partnerId}-other`;
      for (const [i, day] of ['2026-08-01', '2026-08-02', '2026-10-30', '2026-11-01'].entries())
        await responses.recordOnce({
          partnerId,
          offerId: `o-${i}`,
          at: at(day),
          outcome: 'accepted',
          responseHours: 2,
        });
      await responses.recordOnce({
        partnerId: other,
        offerId: 'o-x',
        at: at('2026-10-30'),
        outcome: 'expired',
      });
      const days = await responses.figures(partnerId, '2026-08-02', '2026-10-31');
      expect(days.map((d) => d.day)).toEqual(['2026-08-02', '2026-10-30']);
      expect(days.every((d) => d.accepted === 1 && d.expired === 0)).toBe(true);
      await expect(responses.figures(`${partnerId}-none`, '2026-01-01', '2026-12-31')).resolves.toEqual([]);
    });
  });
}
