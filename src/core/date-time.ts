/**
 * RFC 3339 §5.6 date-times, checked against the calendar. Date.parse rolls impossible values over
 * instead of refusing them (2026-02-31 becomes 2026-03-03, 24:00 becomes 00:00 of the next day), so
 * a signer and writ could read one timestamp as two instants; and it cannot hold a leap second
 * (23:59:60 parses to NaN, which never compares, so a key ending then would never expire).
 * Every date-time writ reads from outside goes through here.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why `text` is not a date-time writ accepts, or null when it is one. */
export function dateTimeProblem(text: string): string | null {
  const m = DATE_TIME.exec(text);
  if (!m) return 'is not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.fraction] and Z or ±hh:mm)';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12) return `has month ${m[2]}; months are 01 to 12`;
  if (day < 1 || day > daysIn(year, month)) return `has day ${m[3]}, but ${MONTHS[month - 1]} ${m[1]} has ${daysIn(year, month)} days`;
  if (hour > 23) return `has hour ${m[4]}; hours are 00 to 23 (write 00:00 of the next day for midnight at the end of a day)`;
  if (minute > 59) return `has minute ${m[5]}; minutes are 00 to 59`;
  if (second === 60) return 'names a leap second (:60), which writ cannot compare; write :59';
  if (second > 59) return `has second ${m[6]}; seconds are 00 to 59`;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return `has the offset ${m[8]}; offsets are -23:59 to +23:59`;
  return null;
}

/** True for a date-time dateTimeProblem accepts (ajv's `date-time` format in the catalog uses it). */
export function isDateTime(text: string): boolean {
  return dateTimeProblem(text) === null;
}
