// The reason someone states before hearing a recording or reading a transcript. It goes into the audit log,
// where it has to make sense to whoever reviews the access later: long enough to say something, short enough
// to stay a sentence, and nothing that cannot be printed (no control characters to garble a terminal or a
// report). HTTP and the CLI both check it with this one rule.
import { z } from 'zod';

const ACCESS_REASON_MIN = 10;
const ACCESS_REASON_MAX = 500;

export const accessReason = z
  .string({ error: 'reason is required' })
  .trim()
  .min(ACCESS_REASON_MIN, { error: `reason must be at least ${ACCESS_REASON_MIN} characters` })
  .max(ACCESS_REASON_MAX, { error: `reason must be at most ${ACCESS_REASON_MAX} characters` })
  // \p{C}: control, format, private-use and unassigned code points.
  .regex(/^\P{C}*$/u, { error: 'reason must be printable text (no control characters)' });
