import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { CallDetails } from '../domain/call-details.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { redactArguments, type ObjectParameter } from '../tools/schema.js';
import { CallRecorder, type FinishedRecording } from './call-recorder.js';
import { pcm16WavHeader } from './wav.js';

/** Recordings hold the caller's voice and words: readable by the service's own user only. */
export const RECORDING_FILE_MODE = 0o600;
const FILE_MODE = RECORDING_FILE_MODE;
const DIRECTORY_MODE = 0o700;
/** How often old recordings are looked for, when RECORDINGS_RETENTION_DAYS is set. */
const RETENTION_CHECK_INTERVAL_MS = 60 * 60 * 1_000;
const DAY_MS = 24 * 60 * 60 * 1_000;

export interface CallRecordingsOptions {
  /** DATA_DIR/recordings; each call goes to `<dir>/<YYYY-MM-DD>/<CallSid>.{wav,json}` (UTC date of its start). */
  dir: string;
  log: Logger;
  /** The tools calls may use, to mask the arguments their schemas mark `sensitive`. */
  tools?: { get(name: string): { parameters: ObjectParameter } | undefined };
  /** RECORDINGS_RETENTION_DAYS: day folders older than this many days are deleted, at start and then hourly. */
  retentionDays?: number | undefined;
  /** Today's date, for retention (tests). */
  now?: () => Date;
}

/** A call's goodbye may run past its time limit (MAX_CALL_DURATION_MS); the recording keeps this much more. */
const RECORDING_MARGIN_MS = 60_000;

export interface NewCallRecording {
  callSid: string;
  streamSid: string;
  /** What the webhook learned: the numbers (masked in the log) and the direction. */
  call: Pick<CallDetails, 'from' | 'to' | 'direction'>;
  /** The call's time limit; audio past it (plus a margin for the goodbye) is not recorded. */
  callLimitMs: number;
  /** The call's logger: save results are logged with its CallSid. */
  log: Logger;
  /** The call's tools, to mask the arguments their schemas mark `sensitive` (default: the service's). */
  tools?: { get(name: string): { parameters: ObjectParameter } | undefined };
}

/**
 * Call recording for the whole service (RECORD_CALLS=1): hands each call a recorder and writes the
 * result when the call ends. Writing happens after the call, off its path, and a disk that is full
 * or read-only costs the recording, never the call. Shutdown waits for writes in progress (`idle`).
 */
export class CallRecordings {
  private readonly saving = new Set<Promise<void>>();
  private readonly retentionTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CallRecordingsOptions) {
    const { retentionDays } = options;
    if (retentionDays !== undefined) {
      const prune = (): void => void this.prune(retentionDays);
      prune();
      this.retentionTimer = setInterval(prune, RETENTION_CHECK_INTERVAL_MS);
      this.retentionTimer.unref();
    }
  }

  /** Stops the retention check (the timer never holds the process open either way). */
  close(): void {
    clearInterval(this.retentionTimer);
  }

  private async prune(retentionDays: number): Promise<void> {
    try {
      const deleted = await deleteOldRecordings(this.options.dir, retentionDays, this.options.now?.() ?? new Date());
      if (deleted.length > 0) this.options.log.info({ deletedDays: deleted, retentionDays }, 'deleted recordings past RECORDINGS_RETENTION_DAYS');
    } catch (error) {
      this.options.log.error({ err: error, dir: this.options.dir }, 'could not delete old recordings');
    }
  }

  get dir(): string {
    return this.options.dir;
  }

  start({ callSid, streamSid, call, callLimitMs, log, tools }: NewCallRecording): CallRecorder {
    return new CallRecorder({
      callSid,
      streamSid,
      from: call.from,
      to: call.to,
      direction: call.direction,
      maxDurationMs: callLimitMs + RECORDING_MARGIN_MS,
      log,
      maskToolArguments: (name, args) => maskToolArguments((tools ?? this.options.tools)?.get(name)?.parameters, args),
      onFinished: (recording) => {
        const saved = this.save(recording, log).finally(() => this.saving.delete(saved));
        this.saving.add(saved);
      },
    });
  }

  /** Resolves once every recording handed over so far has been written (or has failed to be). */
  async idle(): Promise<void> {
    while (this.saving.size > 0) await Promise.allSettled([...this.saving]);
  }

  private async save(recording: FinishedRecording, log: Logger): Promise<void> {
    const paths = recordingPaths(this.options.dir, recording.callSid, recording.startedAt);
    const startedMs = performance.now();
    try {
      await mkdir(paths.dayDir, { recursive: true, mode: DIRECTORY_MODE });
      await writeWav(paths.wav, recording);
      await writeFileAtomically(paths.json, `${JSON.stringify(recording.log, null, 2)}\n`);
      log.info(
        { wav: paths.wav, json: paths.json, audioSeconds: Math.round(recording.frames / 80) / 100, writeMs: Math.round(performance.now() - startedMs) },
        'call recording saved',
      );
    } catch (error) {
      log.error({ err: error, dir: paths.dayDir }, 'could not save the call recording');
      await Promise.allSettled([rm(`${paths.wav}.partial`, { force: true }), rm(`${paths.json}.partial`, { force: true })]);
    }
  }
}

/**
 * A tool call's arguments as a recording keeps them: what the tool's schema marks `sensitive` (names, numbers,
 * codes, notes) is replaced with "[redacted]", phone numbers are masked anywhere else, and the arguments of a tool
 * nobody declared are masked whole. Values keep their place, so a replay makes the same calls with the masked values.
 */
export function maskToolArguments(schema: ObjectParameter | undefined, args: unknown): unknown {
  return redactArguments(schema, args, redactPhoneNumbersInText);
}

/**
 * Deletes the day folders (`YYYY-MM-DD`, the UTC day a call started) whose every call started more than
 * `retentionDays` days before `now`. Other entries are left alone. Returns the days deleted.
 */
export async function deleteOldRecordings(dir: string, retentionDays: number, now: Date): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const deleted: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !/^\d{4}-\d{2}-\d{2}$/.test(entry.name)) continue;
    const dayStart = Date.parse(`${entry.name}T00:00:00Z`);
    if (Number.isNaN(dayStart)) continue;
    // The day's last call started before its end; all of it is past retention once that end is.
    if (now.getTime() - (dayStart + DAY_MS) < retentionDays * DAY_MS) continue;
    await rm(join(dir, entry.name), { recursive: true, force: true });
    deleted.push(entry.name);
  }
  return deleted.sort();
}

export interface RecordingPaths {
  dayDir: string;
  wav: string;
  json: string;
}

export function recordingPaths(dir: string, callSid: string, startedAt: Date): RecordingPaths {
  const dayDir = join(dir, startedAt.toISOString().slice(0, 10));
  // CallSids are checked at the webhook and stream start; this only keeps any other name inside dayDir.
  const base = join(dayDir, callSid.replace(/[^A-Za-z0-9_-]/g, '_'));
  return { dayDir, wav: `${base}.wav`, json: `${base}.json` };
}

/** Finds a call's recording under a recordings directory, whatever day it was made. */
export async function findRecording(dir: string, callSid: string): Promise<RecordingPaths | undefined> {
  const days = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort().reverse();
  for (const day of days) {
    const files = await readdir(join(dir, day)).catch(() => [] as string[]);
    if (files.includes(`${callSid}.json`)) {
      const dayDir = join(dir, day);
      return { dayDir, wav: join(dayDir, `${callSid}.wav`), json: join(dayDir, `${callSid}.json`) };
    }
  }
  return undefined;
}

/** Streams the WAV to disk a second at a time (memory stays flat however long the call), then renames it into place. */
async function writeWav(path: string, recording: FinishedRecording): Promise<void> {
  const partial = `${path}.partial`;
  const file = await open(partial, 'w', FILE_MODE);
  try {
    await file.write(pcm16WavHeader({ sampleRateHz: recording.log.audio.sampleRateHz, channels: 2 }, recording.frames));
    for (const block of recording.stereoPcmBlocks()) await file.write(block);
  } finally {
    await file.close();
  }
  await rename(partial, path);
}

async function writeFileAtomically(path: string, text: string): Promise<void> {
  const partial = `${path}.partial`;
  await writeFile(partial, text, { mode: FILE_MODE });
  await rename(partial, path);
}
