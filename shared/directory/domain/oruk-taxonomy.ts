import { interventionCategories, type InterventionCategory } from '#referral/domain/categories.ts';

/**
 * Open Referral UK taxonomy terms -> our intervention categories. An ORUK service is tagged through
 * `attributes[].taxonomy_term`, with terms from whatever vocabulary its publisher uses: the LGA lists ORUK recommends
 * (service types, needs, circumstances), OpenActive activities, or a local list. We read a term by its URI when it
 * is one of ours, else by its text (`name`, `term` or `code`), normalised: lower case, `&` read as `and`,
 * punctuation and repeated spaces dropped. A term that is in no row below maps to nothing; a service whose terms
 * all map to nothing is a bad record (docs/directory.md has this table).
 *
 * The LGA lists are matched by their terms' names, not by their numeric URIs: the lists themselves were not at hand
 * when the table was written, so no numeric id is claimed here. (`Social inclusion` is LGA need 69.)
 */

/** Our own vocabulary, which `npm run directory -- export` writes: one term per category. */
export const categoryTaxonomy = 'Social prescribing intervention categories';
export const categoryTermUriPrefix = 'urn:x-social-prescribing:intervention-category:';
export const categoryTermUri = (category: InterventionCategory): string =>
  `${categoryTermUriPrefix}${category}`;

export interface CategoryTerm {
  /** The name export gives the category's term. */
  name: string;
  description: string;
  /** Other names read as this category (normalised as above; the export name is read too). */
  alsoMatches: readonly string[];
}

export const categoryTerms: Readonly<Record<InterventionCategory, CategoryTerm>> = {
  arts: {
    name: 'Arts and creativity',
    description: 'Creative activities: arts, crafts, music, singing, drama, writing.',
    alsoMatches: [
      'arts',
      'art',
      'arts and crafts',
      'crafts',
      'creative activities',
      'creative arts',
      'arts on prescription',
      'community arts',
      'music',
      'singing',
      'choirs',
      'drama',
      'creative writing',
      'photography',
    ],
  },
  nature: {
    name: 'Nature and green activities',
    description: 'Time outdoors with a purpose: gardening, conservation, green volunteering.',
    alsoMatches: [
      'nature',
      'green activities',
      'green social prescribing',
      'gardening',
      'community gardening',
      'community gardens',
      'allotments',
      'conservation volunteering',
      'environmental volunteering',
      'outdoor activities',
      'forest bathing',
    ],
  },
  'physical-activity': {
    name: 'Physical activity',
    description: 'Exercise, sport and movement at any level.',
    alsoMatches: [
      'exercise',
      'exercise classes',
      'sport',
      'sports',
      'sport and physical activity',
      'sport and leisure',
      'leisure centres',
      'fitness',
      'walking',
      'walking groups',
      'health walks',
      'walking football',
      'swimming',
      'dance',
      'active lifestyles',
      'chair based exercise',
    ],
  },
  'health-coaching': {
    name: 'Health and wellbeing coaching',
    description: 'Coaching and support to manage health and make lifestyle changes.',
    alsoMatches: [
      'health coaching',
      'wellbeing coaching',
      'health and wellbeing',
      'healthy lifestyles',
      'lifestyle advice',
      'health improvement',
      'weight management',
      'stop smoking',
      'smoking cessation',
      'self management',
      'long term conditions support',
    ],
  },
  'benefits-advice': {
    name: 'Benefits advice',
    description: 'Help to claim the benefits and grants a person is entitled to.',
    alsoMatches: [
      'benefits',
      'welfare benefits',
      'welfare benefits advice',
      'welfare rights',
      'welfare advice',
      'benefit entitlement',
      'benefits and grants',
      'income maximisation',
    ],
  },
  'housing-advice': {
    name: 'Housing advice',
    description: 'Advice and support on housing, tenancies and homelessness.',
    alsoMatches: [
      'housing',
      'housing support',
      'housing options',
      'homelessness',
      'homelessness advice',
      'homelessness prevention',
      'tenancy support',
      'floating support',
    ],
  },
  'debt-advice': {
    name: 'Debt advice',
    description: 'Help with debts, budgeting and managing money.',
    alsoMatches: [
      'debt',
      'debt counselling',
      'money advice',
      'money and debt advice',
      'money management',
      'budgeting',
      'budgeting support',
      'financial advice',
      'financial capability',
      'financial inclusion',
    ],
  },
  'mental-health': {
    name: 'Mental health support',
    description: 'Support for emotional wellbeing and mental health, including counselling and peer support.',
    alsoMatches: [
      'mental health',
      'mental wellbeing',
      'emotional wellbeing',
      'emotional support',
      'counselling',
      'talking therapies',
      'peer support',
      'anxiety and depression',
      'wellbeing',
    ],
  },
  'employment-support': {
    name: 'Employment support',
    description: 'Help into work, training and skills.',
    alsoMatches: [
      'employment',
      'employment advice',
      'employability',
      'jobs',
      'job search',
      'back to work',
      'careers advice',
      'skills and training',
      'training and employment',
    ],
  },
  befriending: {
    name: 'Befriending',
    description: 'Company and connection for people who are lonely or isolated.',
    alsoMatches: [
      'social inclusion',
      'loneliness',
      'social isolation',
      'loneliness and isolation',
      'telephone befriending',
      'companionship',
      'social groups',
      'social activities',
      'lunch clubs',
      'good neighbour schemes',
    ],
  },
  food: {
    name: 'Food support',
    description: 'Food banks, pantries, community meals and help to eat well on a budget.',
    alsoMatches: [
      'food',
      'food bank',
      'food banks',
      'food poverty',
      'food parcels',
      'community meals',
      'community cafe',
      'community pantry',
      'cooking',
    ],
  },
};

/** How term text is compared: `Arts & Crafts` and `arts and crafts.` are the same term. */
export function normaliseTerm(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const byText: ReadonlyMap<string, InterventionCategory> = (() => {
  const table = new Map<string, InterventionCategory>();
  for (const category of interventionCategories) {
    const term = categoryTerms[category];
    for (const text of [category, term.name, ...term.alsoMatches]) {
      const key = normaliseTerm(text);
      const already = table.get(key);
      if (already !== undefined && already !== category)
        throw new Error(`Taxonomy table: "${text}" maps to both ${already} and ${category}`);
      table.set(key, category);
    }
  }
  return table;
})();

/** The rows of the table as [normalised text, category], for the documentation and tests. */
export const taxonomyRows = (): Array<[string, InterventionCategory]> => [...byText.entries()];

export interface TermText {
  name?: string | undefined;
  term?: string | undefined;
  code?: string | undefined;
  term_uri?: string | undefined;
}

/** The category a taxonomy term stands for, or undefined when it is in no row of the table. */
export function categoryOfTerm(term: TermText): InterventionCategory | undefined {
  if (term.term_uri?.startsWith(categoryTermUriPrefix)) {
    const category = interventionCategories.find(
      (c) => c === term.term_uri?.slice(categoryTermUriPrefix.length),
    );
    if (category) return category;
  }
  for (const text of [term.name, term.term, term.code]) {
    if (text === undefined) continue;
    const category = byText.get(normaliseTerm(text));
    if (category) return category;
  }
  return undefined;
}
