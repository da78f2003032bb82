import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { LinkWorkerTeam, Practice, WebhookChannel } from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#matching/domain/routing.ts';

/** The service directory as use cases read it: practices, teams, services by need and area, recipients' channels. */
export interface Directory {
  practice(ods: string): Promise<Practice | undefined>;
  teamForPcn(pcn: string): Promise<LinkWorkerTeam | undefined>;
  servicesCovering(category: InterventionCategory, area: string): Promise<ServiceCandidate[]>;
  channelOf(kind: 'team' | 'partner', id: string): Promise<WebhookChannel | undefined>;
}
