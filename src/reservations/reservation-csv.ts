import type { ErrorDetail } from '../common/errors/sell.exception';
import { USER_ID_PATTERN } from './dto/import-reservations.dto';

/** At most this many bad lines are listed in an error's details. */
const MAX_LISTED_PROBLEMS = 20;

export interface ParsedCsv {
  userIds: string[];
  problems: ErrorDetail[];
}

/**
 * Reads a reservation import sent as `text/csv`: one user id a line. Blank lines are skipped, and so is
 * a first line reading `userId` (a header). Surrounding whitespace and double quotes are removed, as a
 * spreadsheet export adds them. Every other line must be a valid user id; bad lines are reported by
 * number. A comma means a file with several columns, which is refused rather than guessed at (ids with a
 * comma can be imported as JSON).
 */
export function parseUserIdCsv(text: string): ParsedCsv {
  const userIds: string[] = [];
  const problems: ErrorDetail[] = [];
  let badLines = 0;
  let seenContent = false;
  const lines = text.split(/\r\n|\n|\r/);
  for (const [index, line] of lines.entries()) {
    let value = line.trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).trim();
    if (value === '') continue;
    const first = !seenContent;
    seenContent = true;
    if (first && value.toLowerCase() === 'userid') continue;
    if (USER_ID_PATTERN.test(value) && !value.includes(',')) {
      userIds.push(value);
      continue;
    }
    badLines += 1;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ field: `line ${index + 1}`, message: 'must be one user id (1-64 printable characters, no spaces or commas)' });
  }
  if (badLines > MAX_LISTED_PROBLEMS) problems.push({ field: 'body', message: `${badLines - MAX_LISTED_PROBLEMS} more bad lines not listed` });
  return { userIds, problems };
}
