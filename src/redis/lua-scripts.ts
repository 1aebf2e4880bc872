import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from './redis-topology';

const SCRIPTS_DIR = join(__dirname, 'scripts');

/**
 * Every script under `src/redis/scripts/` (shipped to `dist/redis/scripts/`) and the keys it takes: a
 * fixed count, or `{ fixed, each }` for a script that takes `fixed` keys and then `each` more per item
 * of a batch. Gateways pass exactly this many (`ScriptKeys` makes a wrong count a compile error) and a
 * unit test checks each count against the `KEYS[n]` its script reads.
 */
export const SCRIPT_KEYS = {
  'adjust-stock': 2,
  'fcode-attempt-give-back': 1,
  'fcode-attempt-record': 1,
  'fcode-attempt-take': 1,
  'fcode-issue': { fixed: 0, each: 1 },
  'fcode-states': { fixed: 0, each: 1 },
  'init-sale': 1,
  'lottery-draw': 1,
  'lottery-entry': 4,
  'lottery-rounds': 2,
  'mirror-reservations': 1,
  'pay-order': 3,
  purchase: 9,
  'release-lock': 1,
  'release-order': 6,
  'restore-buyers': 2,
  'restore-fcodes': { fixed: 1, each: 1 },
  'restore-orders': { fixed: 2, each: 2 },
  'restore-queue': 4,
  'settle-payment': 5,
  'update-sale': 1,
  'waiting-room': 6,
} as const satisfies Record<string, number | { fixed: number; each: number }>;

export type ScriptName = keyof typeof SCRIPT_KEYS;

export type ScriptArg = string | number;

type Tuple<Length extends number, Items extends string[] = []> = Items['length'] extends Length ? Items : Tuple<Length, [...Items, string]>;

/** The keys a script takes: a tuple of its fixed count, or a list for a batch script. */
export type ScriptKeys<Name extends ScriptName> = (typeof SCRIPT_KEYS)[Name] extends number ? Tuple<(typeof SCRIPT_KEYS)[Name]> : string[];

/** A script's name, keys and arguments, the keys checked against the script's count. */
export type CallOf<Name extends ScriptName> = [name: Name, keys: ScriptKeys<Name>, args: ScriptArg[]];
export type ScriptCall = { [Name in ScriptName]: CallOf<Name> }[ScriptName];

export const SCRIPT_NAMES = Object.keys(SCRIPT_KEYS) as ScriptName[];

/** The `.lua` files under `src/redis/scripts/` (the shared snippets in `lib/` are not scripts). */
export function scriptNames(): string[] {
  return readdirSync(SCRIPTS_DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => file.slice(0, -'.lua'.length));
}

const INCLUDE = /^--#include "([\w./-]+\.lua)"[ \t]*$/gm;

/**
 * A script's source as Redis runs it: each `--#include "lib/<file>.lua"` line is replaced by that file,
 * so a snippet several scripts need (a Lua function) is written once. Includes do not nest.
 */
export function scriptSource(name: ScriptName): string {
  return readFileSync(join(SCRIPTS_DIR, `${name}.lua`), 'utf8').replace(INCLUDE, (_line, file: string) => {
    const snippet = readFileSync(join(SCRIPTS_DIR, file), 'utf8');
    if (/^--#include /m.test(snippet)) throw new Error(`${file}, included by ${name}.lua, includes another file; includes do not nest`);
    return snippet.trimEnd();
  });
}

/**
 * Registers every script once with `defineCommand` (EVALSHA, falling back to EVAL after a SCRIPT
 * FLUSH or on a new server). Scripts are defined without a fixed key count: `runScript` passes it.
 */
export function defineScripts(client: RedisClient): void {
  for (const name of SCRIPT_NAMES) client.defineCommand(commandName(name), { lua: scriptSource(name) });
}

function commandName(scriptName: ScriptName): string {
  return `sellout_${scriptName.replace(/-/g, '_')}`;
}

/** Runs a registered script. Only the gateways call this; they turn its reply into typed values. */
export async function runScript<T = unknown>(client: RedisClient, ...[name, keys, args]: ScriptCall): Promise<T> {
  const command = (client as unknown as Record<string, (...params: ScriptArg[]) => Promise<T>>)[commandName(name)];
  if (typeof command !== 'function') throw new Error(`Lua script ${name} is not registered`);
  const list: readonly string[] = keys;
  return command.call(client, list.length, ...list, ...args);
}
