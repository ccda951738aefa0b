// The calls this controller is handling right now, by our id and by FreeSWITCH uuid. It is a cache of
// what this process owns: the durable truth is in the database, and FreeSWITCH is the truth about which
// channels exist (see reconcile).

export interface RegisteredCall {
  readonly callId: string;
  readonly fsUuid: string;
  /** Ends the call's session and releases everything it holds; resolves when done. */
  close(reason: string): Promise<void>;
}

export class CallRegistry<T extends RegisteredCall = RegisteredCall> {
  private readonly byId = new Map<string, T>();
  private readonly byFsUuid = new Map<string, T>();

  add(call: T): void {
    this.byId.set(call.callId, call);
    this.byFsUuid.set(call.fsUuid, call);
  }

  remove(call: T): void {
    if (this.byId.get(call.callId) === call) this.byId.delete(call.callId);
    if (this.byFsUuid.get(call.fsUuid) === call) this.byFsUuid.delete(call.fsUuid);
  }

  get(callId: string): T | undefined {
    return this.byId.get(callId);
  }

  getByFsUuid(fsUuid: string): T | undefined {
    return this.byFsUuid.get(fsUuid);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): T[] {
    return [...this.byId.values()];
  }

  /** Ends every call (shutdown); each close is isolated so one failure cannot strand the others. */
  async closeAll(reason: string): Promise<void> {
    await Promise.allSettled(this.all().map((call) => call.close(reason)));
  }
}
