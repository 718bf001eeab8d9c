export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

export type Severity = (typeof SEVERITIES)[number];

/** The lowest severity that fails a run; `info` never does, `none` turns failing off. */
export type FailOn = Exclude<Severity, 'info'> | 'none';
