import { applyDecorators } from '@nestjs/common';
import { IsISO8601, Matches, ValidateIf } from 'class-validator';

/**
 * Optional, but `null` is not "absent": a field sent as null is validated (and refused) like any other
 * wrong type, instead of silently falling back to its default as `@IsOptional()` would.
 */
export const IsOptionalNotNull = () => ValidateIf((_object: unknown, value: unknown) => value !== undefined);

/**
 * Text on one line: no control character at all (names, SKUs). A NUL byte is one PostgreSQL text refuses;
 * the others have no place in a name and can hide what a name says.
 */
export const IsSingleLineText = (field: string) => Matches(/^[^\x00-\x1f\x7f-\x9f]*$/, { message: `${field} must be one line without control characters` }); // eslint-disable-line no-control-regex

/** Free text (descriptions): line breaks and tabs are kept, every other control character is refused. */
export const IsPlainText = (field: string) =>
  Matches(/^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$/, { message: `${field} must not contain control characters other than line breaks and tabs` }); // eslint-disable-line no-control-regex

/** A date-time with an explicit offset (`Z` or ±hh:mm): a bare local time would depend on the server's zone. */
const DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export const IsIsoDateTime = (field: string) =>
  applyDecorators(
    IsISO8601({ strict: true, strictSeparator: true }, { message: `${field} must be an ISO-8601 date-time, e.g. 2026-01-01T12:00:00Z` }),
    Matches(DATE_TIME_WITH_ZONE, { message: `${field} must carry a time and a zone (Z or ±hh:mm)` }),
  );

/** Epoch ms of a string that passed `IsIsoDateTime`. */
export function epochOf(isoDateTime: string): number {
  return Date.parse(isoDateTime);
}
