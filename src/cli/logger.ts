// Progress and diagnostics go to stderr only: stdout is reserved for machine-readable output.

import type { Logger, LogLevel } from '../model/logger.ts';
import { redact } from '../util/redact.ts';
import { terminalLine } from '../util/terminal.ts';

/**
 * Messages carry data (file names, ids, backend errors): each is redacted, then printed as one
 * line with its control characters escaped, so neither a credential nor a forged terminal or CI
 * command (a file named "x\n::error::...") gets through. Only the logger's own colours are raw.
 */
export function createLogger(
  level: LogLevel,
  color: boolean,
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const clean = (message: string) => terminalLine(redact(message));
  return {
    level,
    color,
    info(message) {
      if (level !== 'quiet') write(clean(message));
    },
    warn(message) {
      write(paint('33', 'warning: ') + clean(message));
    },
    debug(message) {
      if (level === 'verbose') write(paint('2', clean(message)));
    },
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return false;
  return Boolean(process.stderr.isTTY);
}
