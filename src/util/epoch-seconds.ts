/** Seconds since the epoch of an RFC 3339 timestamp; null when it is missing or unparseable. */
export function epochSeconds(timestamp: string | null | undefined): number | null {
  if (!timestamp) return null;
  const millis = Date.parse(timestamp);
  return Number.isNaN(millis) ? null : Math.floor(millis / 1000);
}
