// The aws-kms source's `cloudTrail` option: no SDK here, the declaration (and so the config schema
// generator) reads it without loading the collector.

/** `cloudTrail: true`, or the bounds of the lookup. */
export type CloudTrailOption = boolean | { lookbackDays?: number; maxPages?: number };

export interface CloudTrailSettings {
  /** How far back to look: CloudTrail keeps 90 days. */
  lookbackDays: number;
  /** Pages (of 50 events) read per event name and region; older events are not read. */
  maxPages: number;
}

export const CLOUDTRAIL_LOOKBACK_DAYS = 90;
export const DEFAULT_MAX_PAGES = 10;
export const MAX_PAGES_LIMIT = 100;

/** The source entry's `cloudTrail` (config schema). */
export const CLOUDTRAIL_SCHEMA = {
  description:
    'Read when disabled and pending-deletion keys entered their state from the CloudTrail event history (cloudtrail:LookupEvents, the last 90 days), for KD-RET-001. true, or the bounds of the lookup.',
  oneOf: [
    { type: 'boolean' },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        lookbackDays: { type: 'integer', minimum: 1, maximum: CLOUDTRAIL_LOOKBACK_DAYS, description: 'How many days back to look (default and most: 90).' },
        maxPages: { type: 'integer', minimum: 1, maximum: MAX_PAGES_LIMIT, description: `Pages of 50 events read per event name and region (default ${DEFAULT_MAX_PAGES}).` },
      },
    },
  ],
} as const;

export function cloudTrailSettings(option: CloudTrailOption | undefined): CloudTrailSettings | null {
  if (option === undefined || option === false) return null;
  const given = option === true ? {} : option;
  return {
    lookbackDays: Math.min(given.lookbackDays ?? CLOUDTRAIL_LOOKBACK_DAYS, CLOUDTRAIL_LOOKBACK_DAYS),
    maxPages: Math.min(given.maxPages ?? DEFAULT_MAX_PAGES, MAX_PAGES_LIMIT),
  };
}
