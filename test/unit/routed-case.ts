import { routeReferral, type RouteReferralDeps } from '#matching/application/route-referral.ts';
import type { OfferDeadlineDeps } from '#referral/application/offer-deadlines.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { DirectorySnapshot } from '#directory/domain/directory.ts';
import { queueMessages } from '#messages/queue.ts';
import type { NoticeMessage } from '#messages/notice-message.ts';
import {
  FakeClock,
  InMemoryAuditLog,
  InMemoryDirectory,
  InMemoryMetricCounters,
  InMemoryReferralStore,
  RecordingQueue,
} from './fakes.ts';
import { InMemoryOfferStore, InMemoryWorklists } from './fakes-offers.ts';
import { InMemoryOfferDeadlines } from './fakes-offer-deadlines.ts';
import { InMemoryDirectoryEditor } from './fakes-directory-editor.ts';
import { InMemoryPartnerResponses } from './fakes-partner-responses.ts';
import { InMemoryFigures } from './fakes-figures.ts';
import { CountedServiceLoad, ListedGeography } from './fakes-matching.ts';
import { sampleDirectory, sampleReferral } from './fixtures.ts';

/**
 * The Leeds sample referral (practice A81001, postcode LS6 1AA in a most-deprived-decile LSOA) with the given needs,
 * routed on the fakes at 09:20 on Tuesday 4 March 2025 with the sample directory: its team assigned and one offer
 * made per matched need (food: the pantry by LSOA, then food parcels by district; arts: the studio alone). Everything
 * the case-work, deadline and response-record use cases need, as one set of fakes the tests can inspect.
 */
export interface RoutedCase {
  referrals: InMemoryReferralStore;
  offers: InMemoryOfferStore;
  deadlines: InMemoryOfferDeadlines;
  audit: InMemoryAuditLog;
  counters: InMemoryMetricCounters;
  /** The observatory's figures, shared by the router and the case work. */
  figures: InMemoryFigures;
  notices: RecordingQueue<NoticeMessage>;
  responses: InMemoryPartnerResponses;
  editor: InMemoryDirectoryEditor;
  snapshot: DirectorySnapshot;
  clock: FakeClock;
  /** The router's deps, to route again (a redelivery) or another referral. */
  route: RouteReferralDeps;
  /** Case work's and the deadline job's deps (a superset of CaseWorkDeps). */
  deps: OfferDeadlineDeps;
}

export async function routedCase(
  needs: InterventionCategory[],
  options: { clearNotices?: boolean } = {},
): Promise<RoutedCase> {
  const referrals = new InMemoryReferralStore();
  const offers = new InMemoryOfferStore();
  const audit = new InMemoryAuditLog();
  const counters = new InMemoryMetricCounters();
  const figures = new InMemoryFigures();
  const notices = new RecordingQueue(queueMessages.notifications);
  const responses = new InMemoryPartnerResponses();
  const clock = new FakeClock('2025-03-04T09:20:00.000Z');
  const snapshot = sampleDirectory();
  const editor = new InMemoryDirectoryEditor(snapshot);
  const deadlines = new InMemoryOfferDeadlines(offers);
  const services = {
    responseDays: async (serviceId: string) =>
      snapshot.services.find((s) => s.id === serviceId)?.responseDays,
  };
  const route: RouteReferralDeps = {
    referrals,
    directory: new InMemoryDirectory(snapshot),
    audit,
    counters,
    figures,
    deliveryQueue: notices,
    clock,
    geography: new ListedGeography(
      [
        {
          postcode: 'LS6 1AA',
          district: 'LS6',
          lsoa11: 'E01011331',
          lsoa21: 'E01011331',
          localAuthority: 'E08000035',
          country: 'E92000001',
          terminated: false,
        },
      ],
      [{ edition: '2019', lsoa: 'E01011331', rank: 1200, decile: 1 }],
    ),
    serviceLoad: new CountedServiceLoad(counters),
    imdEdition: '2019',
    offers: { store: offers, services },
  };
  const deps: OfferDeadlineDeps = {
    referrals,
    offers,
    deadlines,
    worklists: new InMemoryWorklists(referrals, offers),
    services,
    directory: editor,
    audit,
    counters,
    figures,
    responses,
    notices,
    clock,
  };
  const referral = sampleReferral('leeds-arts-and-mental-health', { needs });
  referrals.seed(referral);
  await routeReferral(route, referral.referralId);
  if (options.clearNotices) notices.sends.length = 0;
  return {
    referrals,
    offers,
    deadlines,
    audit,
    counters,
    figures,
    notices,
    responses,
    editor,
    snapshot,
    clock,
    route,
    deps,
  };
}
