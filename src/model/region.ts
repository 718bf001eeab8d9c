/** A span of lines in a file (SARIF region semantics: 1-based, end column exclusive). */
export interface Region {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}
