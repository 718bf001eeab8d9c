// Go's time.ParseDuration, which the cert-manager API uses for spec.duration and spec.renewBefore
// ("2160h", "1h30m", "8760h0m0s"): a sequence of decimal numbers, each with a unit. There is no
// day unit, so "90d" is invalid, as the API server would say.

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const WHOLE = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Seconds in a Go duration string, or null when it is not one. */
export function goDurationSeconds(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '0' || trimmed === '+0' || trimmed === '-0') return 0;
  if (!WHOLE.test(trimmed)) return null;
  let seconds = 0;
  for (const [, number, unit] of trimmed.matchAll(PART)) seconds += Number(number) * UNIT_SECONDS[unit!]!;
  // Nanosecond parts leave floating-point dust; a whole second is what any rule compares.
  seconds = Math.round(seconds * 1e9) / 1e9;
  return trimmed.startsWith('-') ? -seconds : seconds;
}
