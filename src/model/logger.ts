// The logging contract every layer writes to. The terminal implementation (redaction, colour,
// stderr) belongs to the CLI; lower layers see only this interface, so they never pull it in.

export type LogLevel = 'quiet' | 'normal' | 'verbose';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  readonly level: LogLevel;
  readonly color: boolean;
}
