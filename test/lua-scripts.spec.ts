import Redis from 'ioredis';
import { runScript, SCRIPT_KEYS, SCRIPT_NAMES, scriptNames, scriptSource } from '../src/redis/lua-scripts';

/** The script's code without its comments (whose `KEYS[n]` lines document, not read). */
function code(source: string): string {
  return source.replace(/--.*$/gm, '');
}

/** The highest `KEYS[<number>]` the code reads, and whether it also reads keys by a computed index. */
function keysRead(source: string): { highest: number; computed: boolean } {
  const literal = [...code(source).matchAll(/\bKEYS\[(\d+)\]/g)].map((match) => Number(match[1]));
  return { highest: Math.max(0, ...literal), computed: /\bKEYS\[(?!\d+\])|#KEYS\b|\(KEYS\)/.test(code(source)) };
}

describe('Lua scripts', () => {
  it('declares every script file, and only those', () => {
    expect([...SCRIPT_NAMES].sort()).toEqual(scriptNames().sort());
  });

  it.each(SCRIPT_NAMES)('%s reads exactly the keys its gateway passes', (name) => {
    const declared = SCRIPT_KEYS[name];
    const read = keysRead(scriptSource(name));
    if (typeof declared === 'number') {
      expect(read).toEqual({ highest: declared, computed: false });
    } else {
      expect(read.computed).toBe(true);
      expect(read.highest).toBeLessThanOrEqual(declared.fixed + declared.each);
    }
  });

  it('expands every include into the script, once', () => {
    for (const name of SCRIPT_NAMES) expect(scriptSource(name)).not.toMatch(/^--#include/m);
    const purchase = scriptSource('purchase');
    expect(purchase.match(/local function hashToJson\(/g)).toHaveLength(1);
    expect(purchase.match(/local function idempotentReplay\(/g)).toHaveLength(1);
    for (const name of SCRIPT_NAMES) {
      const source = code(scriptSource(name));
      for (const helper of ['hashToJson', 'idempotentReplay']) {
        if (source.includes(`${helper}(`)) expect(source).toContain(`local function ${helper}(`);
      }
    }
  });

  it('reads the key counts of what it finds in a script, comments aside', () => {
    expect(keysRead("local a, b = KEYS[1], KEYS[3] -- KEYS[7] is documented only")).toEqual({ highest: 3, computed: false });
    expect(keysRead('for i = 1, #KEYS do end')).toEqual({ highest: 0, computed: true });
    expect(keysRead('local k = KEYS[1 + i]')).toEqual({ highest: 0, computed: true });
  });

  describe('on Redis', () => {
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(process.env.TEST_REDIS_URL as string, { lazyConnect: true });
    });
    afterAll(() => redis.quit());

    it.each(SCRIPT_NAMES)('%s compiles as Redis receives it', async (name) => {
      await expect(redis.script('LOAD', scriptSource(name))).resolves.toMatch(/^[0-9a-f]{40}$/);
    });
  });
});

/**
 * A wrong number of keys does not compile. Checked by `npm run typecheck` (tsconfig.json includes test/),
 * not by jest, which runs without type checks: never called.
 */
export function wrongKeyCountsDoNotCompile(client: Redis): void {
  // @ts-expect-error purchase.lua takes nine keys
  void runScript(client, 'purchase', ['one'], []);
  // @ts-expect-error release-lock.lua takes one key
  void runScript(client, 'release-lock', ['one', 'two'], []);
  void runScript(client, 'release-lock', ['one'], ['token']);
}
