// The wall clock at a location for a given instant. Intl applies the IANA rules, so daylight-saving changes
// come out right: in spring the skipped hour (02:00-02:59) never appears, in autumn 01:00-01:59 appears for
// two different instants, and both read as the same local time.
import type { Weekday } from './schema.ts';

export interface LocalTime {
  /** YYYY-MM-DD at the location. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight, 0..1439. */
  minutes: number;
  /** HH:MM, for reasons an admin reads. */
  hhmm: string;
}

// Building a formatter costs far more than using one; one per time zone, kept for the process's life
// (the set of zones is the handful of locations in the routing file).
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(at: Date, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const hour = Number(parts.hour) % 24;
  const minute = Number(parts.minute);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: (parts.weekday ?? '').toLowerCase().slice(0, 3) as Weekday,
    minutes: hour * 60 + minute,
    hhmm: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
  };
}
