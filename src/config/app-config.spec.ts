import { ConfigError, DEV_FCODE_SECRET, DEV_JWT_SECRET, loadConfig } from './app-config';

const productionSecrets = { JWT_SECRET: 'a-production-secret-of-some-length', FCODE_SECRET: 'another-production-secret-for-codes' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe(loadConfig.name, () => {
  describe('with an empty environment', () => {
    it('applies the documented defaults', () => {
      const config = loadConfig({});
      expect(config).toMatchObject({
        nodeEnv: 'development',
        port: 3000,
        host: '127.0.0.1',
        redisUrl: 'redis://127.0.0.1:6379',
        database: { kind: 'sqlite', file: './data/sellout.sqlite' },
        jwtSecret: DEV_JWT_SECRET,
        authDevTokens: true,
      });
    });
  });

  describe('PORT', () => {
    it.each(['abc', '70000', '65536', '-1', '3.5', '80 80'])('refuses %j and names the variable', (port) => {
      expect(problemsOf({ PORT: port })).toEqual([expect.stringContaining('PORT')]);
    });

    it('accepts 8080', () => {
      expect(loadConfig({ PORT: '8080' }).port).toBe(8080);
    });
  });

  describe('REDIS_URL', () => {
    it.each(['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis://', 'redis://host with space'])('refuses %j and names the variable', (url) => {
      expect(problemsOf({ REDIS_URL: url })).toEqual([expect.stringContaining('REDIS_URL')]);
    });

    it.each(['redis://127.0.0.1:6380/2', 'rediss://user:pass@cache.example.com:6380'])('accepts %j', (url) => {
      expect(loadConfig({ REDIS_URL: url }).redisUrl).toBe(url);
    });
  });

  describe('REDIS_CLUSTER_NODES', () => {
    it('is unset by default: the service runs on the one node of REDIS_URL', () => {
      expect(loadConfig({}).redisClusterNodes).toEqual([]);
    });

    it('accepts comma-separated host:port seeds', () => {
      expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001' }).redisClusterNodes).toEqual(['10.0.0.1:7000', 'redis-b:7001']);
    });

    it.each(['10.0.0.1', 'redis://10.0.0.1:7000', '10.0.0.1:7000,,10.0.0.2:7000', 'host:99999'])('refuses %j and names the variable', (nodes) => {
      expect(problemsOf({ REDIS_CLUSTER_NODES: nodes })).toEqual([expect.stringContaining('REDIS_CLUSTER_NODES')]);
    });

    it('refuses REDIS_URL as well, naming both variables', () => {
      const problems = problemsOf({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(problems).toEqual([expect.stringMatching(/REDIS_URL.*REDIS_CLUSTER_NODES/)]);
    });
  });

  describe('REDIS_KEY_PREFIX', () => {
    it('is sellout by default', () => {
      expect(loadConfig({}).redisKeyPrefix).toBe('sellout');
    });

    it('accepts letters, digits, - and _ up to 32 characters', () => {
      expect(loadConfig({ REDIS_KEY_PREFIX: 'shop-B_2' }).redisKeyPrefix).toBe('shop-B_2');
      expect(loadConfig({ REDIS_KEY_PREFIX: 'x'.repeat(32) }).redisKeyPrefix).toBe('x'.repeat(32));
    });

    it.each(['a:b', 'a{b}', 'a b', 'a*', 'é', 'x'.repeat(33)])('refuses %p, naming the variable', (prefix) => {
      expect(problemsOf({ REDIS_KEY_PREFIX: prefix })).toEqual([expect.stringContaining('REDIS_KEY_PREFIX')]);
    });
  });

  describe('DATABASE_URL', () => {
    it.each(['mysql://root@localhost/sellout', 'postgres://', 'just-a-file.sqlite'])('refuses %j and names the variable', (url) => {
      expect(problemsOf({ DATABASE_URL: url })).toEqual([expect.stringContaining('DATABASE_URL')]);
    });

    it('selects PostgreSQL for a postgres:// URL', () => {
      expect(loadConfig({ DATABASE_URL: 'postgres://sellout@db:5432/sellout' }).database).toEqual({ kind: 'postgres', url: 'postgres://sellout@db:5432/sellout' });
    });

    it('selects the embedded database for sqlite:<file>', () => {
      expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' }).database).toEqual({ kind: 'sqlite', file: '/tmp/x.sqlite' });
    });
  });

  describe('in production', () => {
    it('refuses the dev JWT secret', () => {
      expect(problemsOf({ NODE_ENV: 'production', FCODE_SECRET: productionSecrets.FCODE_SECRET })).toEqual([expect.stringContaining('JWT_SECRET')]);
      expect(problemsOf({ NODE_ENV: 'production', ...productionSecrets, JWT_SECRET: DEV_JWT_SECRET })).toEqual([expect.stringContaining('JWT_SECRET')]);
    });

    it('refuses the dev F-code secret', () => {
      expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: productionSecrets.JWT_SECRET, FCODE_SECRET: DEV_FCODE_SECRET })).toEqual([expect.stringContaining('FCODE_SECRET')]);
    });

    it('forces AUTH_DEV_TOKENS off whatever it says', () => {
      expect(loadConfig({ NODE_ENV: 'production', ...productionSecrets, AUTH_DEV_TOKENS: 'true' }).authDevTokens).toBe(false);
      expect(loadConfig({ NODE_ENV: 'production', ...productionSecrets }).authDevTokens).toBe(false);
    });

    it('accepts its own secrets', () => {
      expect(loadConfig({ NODE_ENV: 'production', ...productionSecrets }).jwtSecret).toBe(productionSecrets.JWT_SECRET);
    });
  });

  describe('outside production', () => {
    it('honours AUTH_DEV_TOKENS=false', () => {
      expect(loadConfig({ AUTH_DEV_TOKENS: 'false' }).authDevTokens).toBe(false);
    });

    it('refuses AUTH_DEV_TOKENS that is not a boolean', () => {
      expect(problemsOf({ AUTH_DEV_TOKENS: 'maybe' })).toEqual([expect.stringContaining('AUTH_DEV_TOKENS')]);
    });
  });

  it('refuses a JWT_SECRET shorter than 16 characters', () => {
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual([expect.stringContaining('JWT_SECRET')]);
  });

  describe('TRUST_PROXY', () => {
    it('trusts no proxy by default, so a client cannot choose its own address', () => {
      expect(loadConfig({}).trustProxy).toBe(false);
    });

    it('accepts true, a hop count and a list of proxy addresses', () => {
      expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
      expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
      expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
    });

    it('refuses anything else', () => {
      expect(problemsOf({ TRUST_PROXY: 'everyone' })).toEqual([expect.stringContaining('TRUST_PROXY')]);
    });
  });

  describe('ORDER_WRITER_LINGER_MS', () => {
    it('lingers 100 ms after a short batch by default, and 0 turns it off', () => {
      expect(loadConfig({}).orderWriter.lingerMs).toBe(100);
      expect(loadConfig({ ORDER_WRITER_LINGER_MS: '0' }).orderWriter.lingerMs).toBe(0);
    });

    it('refuses a negative or over-long linger', () => {
      expect(problemsOf({ ORDER_WRITER_LINGER_MS: '-1' })).toEqual([expect.stringContaining('ORDER_WRITER_LINGER_MS')]);
      expect(problemsOf({ ORDER_WRITER_LINGER_MS: '10001' })).toEqual([expect.stringContaining('ORDER_WRITER_LINGER_MS')]);
    });
  });

  describe('ORDER_WRITER_NICE', () => {
    it('lowers the writer thread by the most a nice increment can by default, and 0 leaves it as it is', () => {
      expect(loadConfig({}).orderWriter.nice).toBe(19);
      expect(loadConfig({ ORDER_WRITER_NICE: '0' }).orderWriter.nice).toBe(0);
    });

    it('refuses an increment outside 0-19 (a raise would need privileges)', () => {
      expect(problemsOf({ ORDER_WRITER_NICE: '-1' })).toEqual([expect.stringContaining('ORDER_WRITER_NICE')]);
      expect(problemsOf({ ORDER_WRITER_NICE: '20' })).toEqual([expect.stringContaining('ORDER_WRITER_NICE')]);
    });
  });

  describe('WEB_CONCURRENCY', () => {
    it('runs one process by default and accepts up to 64 workers', () => {
      expect(loadConfig({}).webConcurrency).toBe(1);
      expect(loadConfig({ WEB_CONCURRENCY: '4' }).webConcurrency).toBe(4);
      expect(loadConfig({ WEB_CONCURRENCY: '64' }).webConcurrency).toBe(64);
    });

    it.each(['0', '65', '-2', '1.5', 'auto'])('refuses %j and names the variable', (value) => {
      expect(problemsOf({ WEB_CONCURRENCY: value })).toEqual([expect.stringContaining('WEB_CONCURRENCY')]);
    });
  });

  it('refuses an unknown NODE_ENV', () => {
    expect(problemsOf({ NODE_ENV: 'staging' })).toEqual([expect.stringContaining('NODE_ENV')]);
  });

  it('lists every problem at once, each naming its variable', () => {
    const problems = problemsOf({ PORT: 'x', REDIS_URL: 'nope', DATABASE_URL: 'nope' });
    expect(problems).toHaveLength(3);
    for (const name of ['PORT', 'REDIS_URL', 'DATABASE_URL']) expect(problems.some((problem) => problem.includes(name))).toBe(true);
  });

  it('puts the variable names in the error message that stops the process', () => {
    expect(() => loadConfig({ PORT: 'x' })).toThrow(/Invalid configuration:[\s\S]*PORT/);
  });

  describe('REDIS_DURABILITY', () => {
    it('is none outside production and aof in production unless chosen', () => {
      expect(loadConfig({}).redisDurability).toEqual({ mode: 'none' });
      expect(loadConfig({ NODE_ENV: 'production', ...productionSecrets }).redisDurability).toEqual({ mode: 'aof' });
    });

    it('lets production choose none explicitly', () => {
      expect(loadConfig({ NODE_ENV: 'production', REDIS_DURABILITY: 'none', ...productionSecrets }).redisDurability).toEqual({ mode: 'none' });
    });

    it('reads replicas:N', () => {
      expect(loadConfig({ REDIS_DURABILITY: 'replicas:2' }).redisDurability).toEqual({ mode: 'replicas', replicas: 2 });
    });

    it.each(['fsync', 'replicas', 'replicas:0', 'replicas:17', 'replicas:x', 'AOF'])('refuses %j and names the variable', (value) => {
      expect(problemsOf({ REDIS_DURABILITY: value })).toEqual([expect.stringContaining('REDIS_DURABILITY')]);
    });
  });
});
