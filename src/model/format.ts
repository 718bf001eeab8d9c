/** The report formats `report.formats` and `--format` accept. */
export const FORMATS = ['json', 'sarif', 'md', 'html', 'csv', 'ocsf', 'prom'] as const;

export type Format = (typeof FORMATS)[number];
