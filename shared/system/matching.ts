/**
 * Matching settings, the same in AWS and locally. Part of the ONE system description (shared/system/).
 */

/**
 * The English IMD edition referrals are classified with: `2019` (IoD2019, keyed on 2011 LSOAs) or `2025` (IoD2025,
 * keyed on 2021 LSOAs). Every decision records the edition and the LSOA vintage it used, and counts carry the
 * edition in their deprivation dimension (`2019:3`), so changing this never mixes editions in one count: figures
 * before and after the change are simply different counters. 2019 until the 2025 deciles are loaded and checked
 * (the sample geography has both).
 */
export const imdEdition: '2019' | '2025' = '2019';
