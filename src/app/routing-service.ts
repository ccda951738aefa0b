// The routing the controller uses right now, kept in step with `dialplan/routing.yaml`. A valid edit takes
// effect for the next call without a restart; an invalid one is rejected (errors logged, counted, shown by
// status()) and the last good version stays live. Calls in progress keep the decision they got: a decision
// is a value, computed once when the call arrives.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { CallbridgeError, ErrorCode } from '../core/errors.ts';
import { route } from '../core/routing/route.ts';
import type { RoutingConfig } from '../core/routing/schema.ts';
import type { CallFacts, RoutingDecision } from '../core/routing/types.ts';
import { formatRoutingError, loadRoutingFile, type RoutingError } from './routing-file.ts';

export interface RoutingStatus {
  file: string;
  /** 1 for the version loaded at start, +1 for every accepted edit. */
  version: number;
  /** sha256 of the live file's text. */
  hash: string;
  loadedAt: Date;
  /** The last rejected edit, until a valid edit replaces it. */
  lastError: { at: Date; errors: RoutingError[] } | null;
}

export interface RoutingServiceOptions {
  file: string;
  logger: Logger;
  /** Called after every rejected edit (metric). */
  onReloadFailed?: () => void;
  /** Called when the file on disk is valid again (a new version, or the live one restored). */
  onReloaded?: () => void;
  /** Quiet time after the last file change before reloading: editors write in several steps (ms). */
  debounceMs?: number;
}

/** The routing file at start was invalid: the controller cannot take calls without a routing it trusts. */
export class RoutingFileInvalidError extends CallbridgeError {
  readonly errors: RoutingError[];

  constructor(errors: RoutingError[]) {
    super(ErrorCode.RoutingInvalid, `The routing file is invalid:\n${errors.map((e) => `  ${formatRoutingError(e)}`).join('\n')}`);
    this.errors = errors;
  }
}

export class RoutingService {
  readonly #options: RoutingServiceOptions;
  readonly #file: string;
  #config: RoutingConfig;
  #status: RoutingStatus;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();
  readonly #changeListeners: ((config: RoutingConfig) => void)[] = [];

  private constructor(options: RoutingServiceOptions, config: RoutingConfig, hash: string) {
    this.#options = options;
    this.#file = resolve(options.file);
    this.#config = config;
    this.#status = { file: this.#file, version: 1, hash, loadedAt: new Date(), lastError: null };
  }

  /** Loads the file once; throws RoutingFileInvalidError listing every problem when it is not valid. */
  static async load(options: RoutingServiceOptions): Promise<RoutingService> {
    const result = await loadRoutingFile(options.file);
    if (!result.ok) throw new RoutingFileInvalidError(result.errors);
    return new RoutingService(options, result.config, result.hash);
  }

  get config(): RoutingConfig {
    return this.#config;
  }

  status(): RoutingStatus {
    return { ...this.#status, lastError: this.#status.lastError && { ...this.#status.lastError } };
  }

  decide(facts: CallFacts): RoutingDecision {
    return route(this.#config, facts);
  }

  /**
   * Watches the file for edits. The directory is watched rather than the file: editors often save by
   * writing a new file and renaming it over the old one, which a watch on the old file would miss.
   */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const name = basename(this.#file);
    this.#watcher = watch(dirname(this.#file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.reload(), this.#options.debounceMs ?? 200);
    });
    this.#watcher.on('error', (error) => this.#options.logger.error({ err: error }, 'routing file watch failed'));
  }

  /** Called with each new version once it is live (not for the version loaded at start). */
  onChange(listener: (config: RoutingConfig) => void): void {
    this.#changeListeners.push(listener);
  }

  /** Reads the file again now; resolves when done. Reloads never overlap. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(() => this.#reload());
    return this.#reloading;
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #reload(): Promise<void> {
    const { logger } = this.#options;
    const result = await loadRoutingFile(this.#file);
    if (!result.ok) {
      this.#status.lastError = { at: new Date(), errors: result.errors };
      this.#options.onReloadFailed?.();
      logger.error(
        { errors: result.errors.map(formatRoutingError), liveVersion: this.#status.version },
        'routing edit rejected; the last good version stays live',
      );
      return;
    }
    this.#options.onReloaded?.();
    if (result.hash === this.#status.hash) {
      this.#status.lastError = null;
      return;
    }
    this.#config = result.config;
    this.#status = {
      file: this.#file,
      version: this.#status.version + 1,
      hash: result.hash,
      loadedAt: new Date(),
      lastError: null,
    };
    logger.info({ version: this.#status.version, hash: result.hash.slice(0, 12) }, 'routing reloaded');
    for (const listener of this.#changeListeners) {
      try {
        listener(result.config);
      } catch (error) {
        logger.error({ err: error }, 'a routing change listener failed');
      }
    }
  }
}
