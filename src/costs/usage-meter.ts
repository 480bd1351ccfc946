import type { ModelCapabilities, UsageReport } from '../model/realtime-model.js';

/**
 * A call's tokens by modality, as the model billed them: `input` is every prompt token the model read (Gemini
 * reads the whole context again for each response), `other` the prompt tokens no modality detail accounts for.
 */
export interface TokenUsage {
  input: { text: number; audio: number; other: number };
  output: { text: number; audio: number };
  thinking: number;
  toolUsePrompt: number;
  /** Prompt tokens served from a cache (counted in `input` too). */
  cached: number;
  total: number;
  /** `reported` by the model, or `estimated` from the audio seconds each way when no report came. */
  source: 'reported' | 'estimated';
  /** Usage reports the model sent (before de-duplication). */
  reports: number;
}

/** Audio the call exchanged with the model: what an estimate is made from. */
export interface AudioSeconds {
  /** Caller audio sent to the model, silence included (the model bills what it hears). */
  toModel: number;
  fromModel: number;
}

/**
 * Adds up a call's usage reports without counting anything twice, whatever the model's way of reporting
 * (`ModelCapabilities.usageReporting`):
 * - `perResponse`: one figure per model response. A response may be reported more than once as it grows
 *   ("sent periodically": https://ai.google.dev/gemini-api/docs/live-api/best-practices): a report with the same
 *   prompt as the one before and at least its response tokens is the same response again and replaces it.
 * - `runningTotal`: each report is the conversation so far; the latest counts. A total that drops is a new
 *   connection's counter starting over: the old one's last report is kept and the new one added.
 * - `none` (or nothing ever arrived): the tokens are estimated from the audio seconds each way.
 */
export class UsageMeter {
  private readonly committed = emptyCounts();
  private pending: UsageReport | undefined;
  private reportCount = 0;

  constructor(private readonly reporting: ModelCapabilities['usageReporting']) {}

  add(report: UsageReport): void {
    this.reportCount++;
    if (this.pending !== undefined && !this.continues(this.pending, report)) addReport(this.committed, this.pending);
    this.pending = report;
  }

  tokens(audio: AudioSeconds, audioTokensPerSecond: number): TokenUsage {
    if (this.reportCount === 0) return estimate(audio, audioTokensPerSecond);
    const counts = { ...this.committed, input: { ...this.committed.input }, output: { ...this.committed.output } };
    if (this.pending !== undefined) addReport(counts, this.pending);
    return { ...counts, total: totalOf(counts), source: 'reported', reports: this.reportCount };
  }

  /** Whether `next` is a later figure of what `previous` reported, rather than something new to add. */
  private continues(previous: UsageReport, next: UsageReport): boolean {
    if (this.reporting === 'runningTotal') return reportTotal(next) >= reportTotal(previous);
    return promptTotal(next) === promptTotal(previous) && responseTotal(next) >= responseTotal(previous);
  }
}

type Counts = Omit<TokenUsage, 'total' | 'source' | 'reports'>;

function emptyCounts(): Counts {
  return { input: { text: 0, audio: 0, other: 0 }, output: { text: 0, audio: 0 }, thinking: 0, toolUsePrompt: 0, cached: 0 };
}

function addReport(counts: Counts, report: UsageReport): void {
  const { prompt, response } = report;
  const text = prompt.text ?? 0;
  const audio = prompt.audio ?? 0;
  counts.input.text += text;
  counts.input.audio += audio;
  counts.input.other += Math.max(0, promptTotal(report) - text - audio);
  // A response without modality details is text (Gemini's Live audio responses always carry their details).
  counts.output.audio += response.audio ?? 0;
  counts.output.text += response.text ?? Math.max(0, responseTotal(report) - (response.audio ?? 0));
  counts.thinking += report.thinkingTokens ?? 0;
  counts.toolUsePrompt += report.toolUsePromptTokens ?? 0;
  counts.cached += report.cachedTokens ?? 0;
}

function promptTotal(report: UsageReport): number {
  const { prompt } = report;
  return prompt.total ?? (prompt.text ?? 0) + (prompt.audio ?? 0) + (prompt.image ?? 0) + (prompt.video ?? 0);
}

function responseTotal(report: UsageReport): number {
  const { response } = report;
  return response.total ?? (response.text ?? 0) + (response.audio ?? 0);
}

function reportTotal(report: UsageReport): number {
  return report.totalTokens ?? promptTotal(report) + responseTotal(report) + (report.thinkingTokens ?? 0) + (report.toolUsePromptTokens ?? 0);
}

function totalOf(counts: Counts): number {
  return counts.input.text + counts.input.audio + counts.input.other + counts.output.text + counts.output.audio + counts.thinking + counts.toolUsePrompt;
}

function estimate(audio: AudioSeconds, audioTokensPerSecond: number): TokenUsage {
  const counts = emptyCounts();
  counts.input.audio = Math.round(audio.toModel * audioTokensPerSecond);
  counts.output.audio = Math.round(audio.fromModel * audioTokensPerSecond);
  return { ...counts, total: totalOf(counts), source: 'estimated', reports: 0 };
}
