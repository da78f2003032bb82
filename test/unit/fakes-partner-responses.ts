import { addFigures, bandOf, noFigures, type ResponseFigures } from '#reporting/domain/response-record.ts';
import type { DailyResponseFigures, PartnerAnswer, PartnerResponses } from '#reporting/ports.ts';

/**
 * The in-memory PartnerResponses: the same promise as the DynamoDB adapter (test/contract/partner-responses.contract.ts),
 * kept by its own means: per partner per day, the figures and the offer ids counted.
 */
export class InMemoryPartnerResponses implements PartnerResponses {
  private readonly days = new Map<string, { figures: ResponseFigures; counted: Set<string> }>();

  async recordOnce(answer: PartnerAnswer): Promise<void> {
    const key = `${answer.partnerId}|${answer.at.slice(0, 10)}`;
    const day = this.days.get(key) ?? { figures: noFigures(), counted: new Set<string>() };
    if (day.counted.has(answer.offerId)) return;
    day.counted.add(answer.offerId);
    const added = noFigures();
    if (answer.outcome === 'expired') added.expired = 1;
    else {
      if (answer.outcome === 'accepted') added.accepted = 1;
      else added.declined[answer.reason] = 1;
      added.bands[bandOf(answer.responseHours)] = 1;
    }
    day.figures = addFigures(day.figures, added);
    this.days.set(key, day);
  }

  async figures(partnerId: string, from: string, to: string): Promise<DailyResponseFigures[]> {
    return [...this.days.entries()]
      .map(([key, { figures }]) => ({ key, day: key.slice(key.lastIndexOf('|') + 1), figures }))
      .filter(({ key, day }) => key === `${partnerId}|${day}` && day >= from && day <= to)
      .sort((a, b) => (a.day < b.day ? -1 : 1))
      .map(({ day, figures }) => ({ day, ...structuredClone(figures) }));
  }
}
