/**
 * The inventory's timestamp form: RFC 3339 in UTC, a whole second as `2026-01-01T00:00:00Z` and
 * an instant with milliseconds as `2026-01-01T00:00:00.250Z`. `instant` is a Date or epoch
 * milliseconds; an invalid date throws a RangeError (as Date#toISOString does).
 */
export function rfc3339(instant: Date | number): string {
  return (instant instanceof Date ? instant : new Date(instant)).toISOString().replace('.000Z', 'Z');
}

/** The same for seconds since the epoch (Unix time, Vault, protobuf); fractions kept to the nearest millisecond. */
export function rfc3339FromSeconds(seconds: number): string {
  return rfc3339(Math.round(seconds * 1000));
}

/** For a date an API may omit or send unparseable (the AWS SDK's Date fields): null then. */
export function rfc3339OrNull(date: Date | null | undefined): string | null {
  return date && !Number.isNaN(date.getTime()) ? rfc3339(date) : null;
}
