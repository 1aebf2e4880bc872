import type { ErrorDetail } from './errors/sell.exception';
import { SellException } from './errors/sell.exception';

/** How large a JSON body's shape may be: checked on the raw text, before anything is built from it. */
export interface JsonShapeLimits {
  /** Objects and arrays nested inside one another. */
  maxDepth: number;
  /** Fields of one object. */
  maxKeys: number;
  /** Elements of one array. */
  maxItems: number;
}

/**
 * Limits for every route: no request body of the contract nests deeper than 2 or has more than about 20
 * fields, so these leave room without letting one body cost much. Validation walks a body recursively
 * and builds an error per unknown field, so depth and width must be refused before it runs: a body nested
 * 20,000 deep overflowed the stack, and tens of thousands of unknown fields held up every other request.
 */
export const JSON_LIMITS: JsonShapeLimits = { maxDepth: 16, maxKeys: 64, maxItems: 1_000 };
/** The two bulk admin routes take up to 100,000 ids in one array (reservation import, bound F-codes). */
export const BULK_JSON_LIMITS: JsonShapeLimits = { maxDepth: 16, maxKeys: 64, maxItems: 100_000 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function refuse(names: string[], message: string): SellException {
  const field = names.filter((name) => name !== '').join('.');
  return SellException.validation([{ field: field === '' ? 'body' : field, message }]);
}

/**
 * Refuses JSON text whose nesting or width exceeds the limits, in one pass over the text that skips
 * string contents with `indexOf`: linear, with no allocation per value. Text that is not JSON at all is
 * left for the parser to refuse. A refusal names the field that holds the offending object or array.
 */
export function checkJsonShape(text: string, limits: JsonShapeLimits): void {
  // Per open container: 1 for an object, 0 for an array; how many commas it holds so far; its field name.
  const isObject: number[] = [];
  const commas: number[] = [];
  const names: string[] = [];
  // The last string seen (as offsets into the text): the field name, when an object's member opens.
  let stringStart = 0;
  let stringEnd = 0;
  const length = text.length;
  let index = 0;
  while (index < length) {
    const char = text.charCodeAt(index);
    if (char === QUOTE) {
      let end = index + 1;
      for (;;) {
        end = text.indexOf('"', end);
        if (end < 0) return;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes += 1;
        if (backslashes % 2 === 0) break;
        end += 1;
      }
      stringStart = index + 1;
      stringEnd = end;
      index = end + 1;
      continue;
    }
    if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      const top = isObject.length - 1;
      const name = top >= 0 && isObject[top] === 1 ? text.slice(stringStart, Math.min(stringEnd, stringStart + 64)) : '';
      if (isObject.length >= limits.maxDepth) throw refuse([...names, name], `must not nest objects and arrays more than ${limits.maxDepth} deep`);
      isObject.push(char === OPEN_OBJECT ? 1 : 0);
      commas.push(0);
      names.push(name);
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      isObject.pop();
      commas.pop();
      names.pop();
    } else if (char === COMMA && commas.length > 0) {
      const top = commas.length - 1;
      commas[top] += 1;
      // n commas separate n + 1 members.
      if (isObject[top] === 1 ? commas[top] >= limits.maxKeys : commas[top] >= limits.maxItems) {
        throw refuse(names, isObject[top] === 1 ? `an object must not have more than ${limits.maxKeys} fields` : `an array must not have more than ${limits.maxItems} elements`);
      }
    }
    index += 1;
  }
}

/**
 * Control characters other than tab, line feed and carriage return (C0, DEL and C1). No field of the
 * contract holds them, and some stores refuse them outright (PostgreSQL text cannot hold NUL).
 */
export const CONTROL_CHARACTER = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/; // eslint-disable-line no-control-regex
/** Every control character, tab and line breaks included: what single-line fields refuse. */
export const ANY_CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/; // eslint-disable-line no-control-regex

const MAX_LISTED_PROBLEMS = 20;

/**
 * Lists strings (values and field names) of a parsed body that hold a control character other than tab
 * and line breaks; fields that must be a single line refuse those too, in their DTOs. Recursive, which
 * is safe because `checkJsonShape` has bounded the depth.
 */
export function controlCharacterProblems(value: unknown, field = 'body', problems: ErrorDetail[] = []): ErrorDetail[] {
  if (problems.length >= MAX_LISTED_PROBLEMS) return problems;
  if (typeof value === 'string') {
    if (CONTROL_CHARACTER.test(value)) problems.push({ field, message: `${field} must not contain control characters` });
  } else if (Array.isArray(value)) {
    for (let index = 0; index < value.length && problems.length < MAX_LISTED_PROBLEMS; index += 1) controlCharacterProblems(value[index], `${field}[${index}]`, problems);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, member] of Object.entries(value)) {
      const path = field === 'body' ? key : `${field}.${key}`;
      if (CONTROL_CHARACTER.test(key)) problems.push({ field: JSON.stringify(key), message: 'field names must not contain control characters' });
      else controlCharacterProblems(member, path, problems);
      if (problems.length >= MAX_LISTED_PROBLEMS) break;
    }
  }
  return problems;
}
