/**
 * Restaurant-local dates and times. A booking is a wall-clock date and time where the restaurant is
 * ("Saturday at 7:30 PM"), so that is what is stored: `YYYY-MM-DD` plus minutes after midnight. The
 * time zone matters only to know what "now" is there, and the text is what a person would say.
 */

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;
const MINUTES_PER_DAY = 24 * 60;
const MS_PER_DAY = 86_400_000;

/** The restaurant's current local date and minute of the day. */
export interface LocalNow {
  date: string;
  minute: number;
}

/** Throws RangeError for a zone the runtime does not know (config checks this at start-up). */
export function localNow(timeZone: string, now: Date): LocalNow {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '00';
  return { date: `${part('year')}-${part('month')}-${part('day')}`, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/** A real calendar date in `YYYY-MM-DD`, as UTC midnight of that date (weekday and day arithmetic only). */
function calendarDate(date: string): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = new Date(Date.UTC(year, month - 1, day));
  return utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day ? utc : undefined;
}

export function isCalendarDate(date: string): boolean {
  return calendarDate(date) !== undefined;
}

/** `HH:MM` (24-hour) → minutes after midnight, or undefined. */
export function parseClockTime(time: string): number | undefined {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  return match === null ? undefined : Number(match[1]) * 60 + Number(match[2]);
}

export function clockTime(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

export function weekdayOf(date: string): Weekday {
  const utc = calendarDate(date);
  if (utc === undefined) throw new RangeError(`not a date: ${date}`);
  return WEEKDAYS[utc.getUTCDay()] as Weekday;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const a = calendarDate(from);
  const b = calendarDate(to);
  if (a === undefined || b === undefined) throw new RangeError(`not a date: ${a === undefined ? from : to}`);
  return Math.round((b.getTime() - a.getTime()) / MS_PER_DAY);
}

export function addDays(date: string, days: number): string {
  const utc = calendarDate(date);
  if (utc === undefined) throw new RangeError(`not a date: ${date}`);
  return new Date(utc.getTime() + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** "Saturday, December 5" (with the year when it is not `currentYear`). */
export function spokenDate(date: string, currentYear?: string): string {
  const utc = calendarDate(date);
  if (utc === undefined) throw new RangeError(`not a date: ${date}`);
  const text = `${WEEKDAYS[utc.getUTCDay()]}, ${MONTHS[utc.getUTCMonth()]} ${utc.getUTCDate()}`;
  return currentYear === undefined || date.startsWith(currentYear) ? text : `${text}, ${utc.getUTCFullYear()}`;
}

/** "7:30 PM", "7 PM", "noon", "midnight". */
export function spokenTime(minute: number): string {
  const normalized = ((minute % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  if (normalized === 0) return 'midnight';
  if (normalized === 12 * 60) return 'noon';
  const hour24 = Math.floor(normalized / 60);
  const minutes = normalized % 60;
  const hour12 = hour24 % 12 === 0 ? 12 : hour24 % 12;
  return `${hour12}${minutes === 0 ? '' : `:${String(minutes).padStart(2, '0')}`} ${hour24 < 12 ? 'AM' : 'PM'}`;
}

/** "Saturday, December 5 at 7:30 PM". */
export function spokenDateTime(date: string, minute: number, currentYear?: string): string {
  return `${spokenDate(date, currentYear)} at ${spokenTime(minute)}`;
}
