/** The answering-machine table of the report (bench/answering-machine.ts). */
import type { AnsweringMachineResult, DetectorName } from './answering-machine.js';
import { markdownTable } from './markdown.js';

const LABELS: Record<DetectorName, string> = {
  combined: 'combined (ours + Twilio)',
  ours: 'ours alone',
  twilio: 'Twilio alone (modelled)',
  'late-transcript': 'combined, transcript late',
};

const pair = (p: { p50: number; p90: number }): string => (Number.isFinite(p.p50) ? `${p.p50} / ${p.p90}` : '–');

export function answeringMachineSection(result: AnsweringMachineResult): string[] {
  const a = result.assumptions;
  const ds = result.detectors;
  const cell = (answer: 'human' | 'machine' | 'screener' | 'fax') => (d: AnsweringMachineResult['detectors'][number]) => `${d.byAnswer[answer].correct} of ${d.byAnswer[answer].scenes}`;
  return [
    `## Who answered (${result.scenes} outbound-call openings: fixtures/answering-machine/)`,
    '',
    markdownTable(
      ['', ...ds.map((d) => LABELS[d.detector])],
      [
        ['right, % of scenes', ...ds.map((d) => `${d.accuracyPercent} %`)],
        ['people introduced to', ...ds.map(cell('human'))],
        ['machines left a whole voicemail', ...ds.map(cell('machine'))],
        ['screeners given a name and purpose', ...ds.map(cell('screener'))],
        ['fax machines hung up on', ...ds.map(cell('fax'))],
        ['decision, ms after the callee answered, p50 / p90', ...ds.map((d) => pair(d.verdictMs))],
        ['person: end of hello → introduction, ms p50 / p90', ...ds.map((d) => pair(d.humanIntroductionDelayMs))],
        ['machine: recording starts → voicemail, ms p50 / p90', ...ds.map((d) => pair(d.voicemailDelayMs))],
        ['voicemails cut / machines introduced to', ...ds.map((d) => `${d.voicemailsCut} / ${d.introducedToMachines}`)],
      ],
    ),
    '',
    `Assumed: the model's transcript ${a.transcriptDelayMs} ms after each utterance (late: ${a.lateTranscriptDelayMs} ms); Twilio's verdict by its ` +
      `documented rule and defaults on our voice test, ${a.twilioCallbackMs} ms to reach us; a voicemail's first words ${a.messageLatencyMs} ms after ` +
      `the decision; an introduction of ${a.introductionMs} ms. The corpus was made while the detector was written: a check of the rules, not a held-out score.`,
  ];
}
