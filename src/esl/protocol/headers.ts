// Ordered ESL headers. FreeSWITCH repeats some headers in one message (CODEC repeats
// Channel-Write-Codec-*, CHANNEL_HANGUP_COMPLETE has Hangup-Cause twice, the COMMAND event after
// uuid_broadcast has two Event-Name), so a plain object would silently lose data. We keep every pair in
// arrival order and answer single-value lookups with the LAST value, like FreeSWITCH's own
// switch_event_get_header on a re-added header.

export type EslHeaderPair = readonly [name: string, value: string];

export class EslHeaders {
  readonly #pairs: (readonly [string, string])[];
  // Built on the first lookup only: most events are looked at for three or four names, and some are
  // dropped unread, so paying for a Map on every message would slow the hot path for nothing.
  #index: Map<string, string> | undefined;

  constructor(pairs: (readonly [string, string])[] = []) {
    this.#pairs = pairs;
  }

  /** Appends a pair; used by the parsers while a message is being read. */
  add(name: string, value: string): void {
    this.#pairs.push([name, value]);
    if (this.#index !== undefined) this.#index.set(name, value);
  }

  /** The last value of `name` (names are case-sensitive, as FreeSWITCH sends them). */
  get(name: string): string | undefined {
    let index = this.#index;
    if (index === undefined) {
      index = new Map();
      for (const [n, v] of this.#pairs) index.set(n, v);
      this.#index = index;
    }
    return index.get(name);
  }

  /** The last value of `name` compared without regard to case (clients may send `content-length`). */
  getIgnoreCase(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (let i = this.#pairs.length - 1; i >= 0; i--) {
      const pair = this.#pairs[i] as readonly [string, string];
      if (pair[0].toLowerCase() === wanted) return pair[1];
    }
    return undefined;
  }

  /** The first value of `name` (the COMMAND event's first Event-Name is the one that names it). */
  getFirst(name: string): string | undefined {
    for (const [n, v] of this.#pairs) if (n === name) return v;
    return undefined;
  }

  /** Every value of `name`, in arrival order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    for (const [n, v] of this.#pairs) if (n === name) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return this.#pairs.length;
  }

  entries(): ReadonlyArray<EslHeaderPair> {
    return this.#pairs;
  }

  /** A plain object; a repeated name keeps its last value. */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, v] of this.#pairs) out[n] = v;
    return out;
  }
}
