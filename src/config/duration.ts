import { MailgrantError } from '../shared/errors.js';

/**
 * Durations in the rules file are written the way admins say them ("12 months", "7 days").
 * Months and years are calendar units, so they are kept as such and applied to a date rather
 * than turned into a fixed number of milliseconds.
 */
export interface Duration {
  readonly amount: number;
  readonly unit: 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';
  readonly text: string;
}

const UNITS: Record<string, Duration['unit']> = {
  minute: 'minutes', minutes: 'minutes', min: 'minutes', mins: 'minutes',
  hour: 'hours', hours: 'hours', h: 'hours',
  day: 'days', days: 'days', d: 'days',
  week: 'weeks', weeks: 'weeks', w: 'weeks',
  month: 'months', months: 'months',
  year: 'years', years: 'years', y: 'years',
};

const DURATION = /^\s*(\d{1,6})\s*([a-z]{1,7})\s*$/i;

export function parseDuration(text: string): Duration | null {
  const m = DURATION.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2]!.toLowerCase()];
  const amount = Number(m[1]);
  if (!unit || amount <= 0) return null;
  return Object.freeze({ amount, unit, text: `${amount} ${unit}` });
}

export function mustParseDuration(text: string): Duration {
  const d = parseDuration(text);
  if (!d) throw new MailgrantError('invalid_input', `"${text}" is not a duration such as "12 months" or "7 days".`);
  return d;
}

/** The instant `duration` before `from`. */
export function subtractDuration(from: Date, duration: Duration): Date {
  const d = new Date(from.getTime());
  switch (duration.unit) {
    case 'minutes': d.setTime(d.getTime() - duration.amount * 60_000); break;
    case 'hours': d.setTime(d.getTime() - duration.amount * 3_600_000); break;
    case 'days': d.setTime(d.getTime() - duration.amount * 86_400_000); break;
    case 'weeks': d.setTime(d.getTime() - duration.amount * 7 * 86_400_000); break;
    case 'months': d.setUTCMonth(d.getUTCMonth() - duration.amount); break;
    case 'years': d.setUTCFullYear(d.getUTCFullYear() - duration.amount); break;
  }
  return d;
}

export function addDuration(from: Date, duration: Duration): Date {
  return subtractDuration(from, { ...duration, amount: -duration.amount });
}
