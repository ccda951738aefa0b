// Option parsers and options shared by several `callbridge` subcommands, so each reads and says the same.
import { InvalidArgumentError, Option } from 'commander';

/**
 * --token; without it the command uses CALLBRIDGE_API_TOKEN, read with the rest of the configuration (so the
 * secret need not be on the command line, and the CLI and the controller share one name).
 */
export function tokenOption(): Option {
  return new Option('--token <token>', 'API token (default: CALLBRIDGE_API_TOKEN)');
}

/** A whole number from `min` to `max` (no upper bound when `max` is omitted). */
export function wholeNumber(name: string, min: number, max?: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || (max !== undefined && n > max)) {
      throw new InvalidArgumentError(max === undefined ? `${name} must be a whole number of at least ${min}` : `${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}
