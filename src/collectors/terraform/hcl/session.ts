// What one load of a configuration shares: the problems found so far (each reported once, though
// a module instantiated many times meets it many times), the evaluator with its budget, and the
// resource instances produced.

import type { Expression } from './ast.ts';
import type { HclProblem, HclResource } from './configuration.ts';
import { Evaluator, type Scope } from './evaluate.ts';
import { EvalError, LimitError, UNKNOWN, type Value } from './values.ts';

/** The code of a problem Terraform itself would reject the configuration for. */
export const INVALID = 'terraform-hcl-invalid';

export class Session {
  readonly problems: HclProblem[] = [];
  private readonly seen = new Set<string>();
  readonly evaluator = new Evaluator();
  readonly resources: HclResource[] = [];
  moduleInstances = 0;
  /** Set once the evaluation budget is spent: nothing more is evaluated. */
  stopped = false;

  problem(at: { file: string; line: number; column: number }, code: string, message: string): void {
    const key = `${at.file}\u0000${at.line}\u0000${at.column}\u0000${code}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push({ file: at.file, line: at.line, column: at.column, code, message });
  }

  /** An evaluation failure as a problem; a spent budget stops the whole evaluation. Anything else is a bug: rethrown. */
  failed(error: unknown): void {
    if (!(error instanceof EvalError)) throw error;
    if (error instanceof LimitError && /evaluation steps|characters of strings/.test(error.message)) {
      if (this.stopped) return;
      this.stopped = true;
    }
    this.problem(error.pos, INVALID, error.message);
  }

  /** Evaluates, turning a failure into a problem and an unknown value. */
  evaluate(expr: Expression, scope: Scope): Value {
    if (this.stopped) return UNKNOWN;
    try {
      return this.evaluator.evaluate(expr, scope);
    } catch (error) {
      this.failed(error);
      return UNKNOWN;
    }
  }
}
