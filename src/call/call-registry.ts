/** The calls live in this process, by CallSid: one stream per call, and a count for health and shutdown. */
export class CallRegistry<Call> {
  private readonly calls = new Map<string, Call>();

  has(callSid: string): boolean {
    return this.calls.has(callSid);
  }

  get(callSid: string): Call | undefined {
    return this.calls.get(callSid);
  }

  add(callSid: string, call: Call): void {
    if (this.calls.has(callSid)) throw new Error(`call ${callSid} is already registered`);
    this.calls.set(callSid, call);
  }

  remove(callSid: string, call: Call): void {
    if (this.calls.get(callSid) === call) this.calls.delete(callSid);
  }

  get size(): number {
    return this.calls.size;
  }

  values(): IterableIterator<Call> {
    return this.calls.values();
  }
}
