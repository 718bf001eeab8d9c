// Progress and diagnostics go to stderr only: stdout is reserved for machine-readable output.

export type LogLevel = 'quiet' | 'normal' | 'verbose';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  readonly level: LogLevel;
  readonly color: boolean;
}

export function createLogger(
  level: LogLevel,
  color: boolean,
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    level,
    color,
    info(message) {
      if (level !== 'quiet') write(message);
    },
    warn(message) {
      write(paint('33', 'warning: ') + message);
    },
    debug(message) {
      if (level === 'verbose') write(paint('2', message));
    },
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return false;
  return Boolean(process.stderr.isTTY);
}
