import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';

const SCRIPTS_DIR = join(__dirname, 'scripts');

/** Names of the `.lua` files under `src/redis/scripts/` (shipped to `dist/redis/scripts/`). */
export function scriptNames(): string[] {
  return readdirSync(SCRIPTS_DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => file.slice(0, -'.lua'.length));
}

/**
 * Registers every script once with `defineCommand` (EVALSHA, falling back to EVAL after a SCRIPT
 * FLUSH or on a new server). Scripts are defined without a fixed key count: `runScript` passes it.
 */
export function defineScripts(client: Redis): void {
  for (const name of scriptNames()) {
    const lua = readFileSync(join(SCRIPTS_DIR, `${name}.lua`), 'utf8');
    client.defineCommand(commandName(name), { lua });
  }
}

function commandName(scriptName: string): string {
  return `sellout_${scriptName.replace(/-/g, '_')}`;
}

export type ScriptArg = string | number;

/** Runs a registered script. Only the gateways call this; they turn its reply into typed values. */
export async function runScript<T = unknown>(client: Redis, name: string, keys: string[], args: ScriptArg[]): Promise<T> {
  const command = (client as unknown as Record<string, (...params: ScriptArg[]) => Promise<T>>)[commandName(name)];
  if (typeof command !== 'function') throw new Error(`Lua script ${name} is not registered`);
  return command.call(client, keys.length, ...keys, ...args);
}
