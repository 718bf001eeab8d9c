/** Who wrote an inventory or report: recorded in every file keydrift writes. */
export const TOOL = { name: 'keydrift', version: '0.1.0' } as const;
