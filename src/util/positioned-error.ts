/** A 1-based line and column in a text file. */
export interface TextPosition {
  line: number;
  column: number;
}

/** A syntax error at a line and column of a file, so the report can name both. */
export class PositionedSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, position: TextPosition) {
    super(message);
    this.line = position.line;
    this.column = position.column;
  }
}
