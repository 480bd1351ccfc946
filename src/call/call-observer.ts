/**
 * What happens on a call, as it happens, for someone watching it live (the browser phone's page). The call
 * reports; it never waits on or hears back from an observer, and an observer that throws is logged and ignored.
 */
export type CallEvent =
  | { type: 'started'; callSid: string }
  /** A transcript fragment: fragments of one turn concatenate (they carry their own leading spaces). */
  | { type: 'transcript'; speaker: 'caller' | 'agent'; text: string }
  /** From the end of the caller's speech (as the service's detector saw it) to the first agent audio after it. */
  | { type: 'latency'; responseMs: number }
  | { type: 'interrupted'; turn: number; sentMs: number; heardMs: number }
  | { type: 'turnComplete'; interrupted: boolean }
  | { type: 'toolCall'; id: string; name: string; args: Record<string, unknown> }
  /** `result` is the answer sent to the model, as JSON cut to a few hundred characters. */
  | { type: 'toolResult'; id: string; name: string; ok: boolean; durationMs: number; result: string }
  | { type: 'ended'; reason: string; summary: Record<string, unknown> };

export interface CallObserver {
  onCallEvent(event: CallEvent): void;
}
