// `callbridge routes check|test|explain`: what an admin runs before (and after) editing routing.yaml.
import { explainDecision } from '../core/routing/explain.ts';
import { route } from '../core/routing/route.ts';
import type { CallFacts, SystemMode } from '../core/routing/types.ts';
import { formatRoutingError, loadRoutingFile } from '../app/routing-file.ts';

export interface RoutesTestOptions {
  file: string;
  to: string;
  from: string;
  at: Date;
  digits?: string;
  mode: SystemMode;
}

/** Prints every problem as file:line:col; returns the exit code (0 valid, 1 invalid). */
export async function checkRoutes(file: string): Promise<number> {
  const result = await loadRoutingFile(file);
  if (!result.ok) {
    for (const error of result.errors) process.stderr.write(`${formatRoutingError(error)}\n`);
    process.stderr.write(`${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} in ${file}\n`);
    return 1;
  }
  process.stdout.write(`${file}: valid (sha256 ${result.hash.slice(0, 12)})\n`);
  return 0;
}

/** Routes one hypothetical call and prints the decision, as JSON or in prose; returns the exit code. */
export async function testRoutes(options: RoutesTestOptions, format: 'json' | 'prose'): Promise<number> {
  const result = await loadRoutingFile(options.file);
  if (!result.ok) {
    for (const error of result.errors) process.stderr.write(`${formatRoutingError(error)}\n`);
    return 1;
  }
  const facts: CallFacts = {
    to: options.to,
    from: options.from,
    at: options.at,
    mode: options.mode,
    ...(options.digits === undefined ? {} : { digits: options.digits }),
  };
  const decision = route(result.config, facts);
  process.stdout.write(format === 'json' ? `${JSON.stringify(decision, null, 2)}\n` : `${explainDecision(decision, facts)}\n`);
  return 0;
}
