#!/usr/bin/env node
'use strict';
/**
 * `npm start`: one command from a fresh checkout to a running Sellout with a demo sale.
 *
 * 1. Compiles the server (`npx nest build`) when dist/main.js is missing or older than src/, and the
 *    storefront and ops console (`npm run build:web`) when their build is missing or older than web/.
 * 2. Uses the Redis at REDIS_URL (default redis://127.0.0.1:6379) if it answers PING; otherwise starts a
 *    private redis-server on a free port (data in DATA_DIR/redis, append-only file on) and stops it on exit;
 *    without redis-server on PATH, says how to install it and exits 1.
 * 3. Runs `node dist/main.js` with the environment, waits for /health, creates a demo sale (sku
 *    `demo-phone`) through the API with a dev token unless one is already listed, and prints where
 *    everything is. Ctrl-C (SIGINT) or SIGTERM stops the service gracefully, then the private Redis.
 *
 * Plain Node (CommonJS) on purpose: it has to run before anything is compiled.
 */
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, statSync } = require('node:fs');
const net = require('node:net');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
// Request logs would bury the summary printed below; LOG_LEVEL=info npm start brings them back.
const env = { LOG_LEVEL: 'warn', ...process.env };
const host = env.HOST || '127.0.0.1';
const port = Number(env.PORT || 3000);
const dataDir = resolve(ROOT, env.DATA_DIR || './data');
const DEMO_SKU = 'demo-phone';

let privateRedis;
let service;
let stopping = false;

function log(message) {
  process.stdout.write(`[sellout] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[sellout] ${message}\n`);
  stopping = true;
  if (service && service.exitCode === null) service.kill('SIGTERM');
  stopRedis();
  process.exit(1);
}

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function mtimeOf(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function run(command, args) {
  log(`running ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

function build() {
  const serverBuilt = mtimeOf(join(ROOT, 'dist', 'main.js'));
  const serverSources = Math.max(newestMtime(join(ROOT, 'src')), mtimeOf(join(ROOT, 'tsconfig.json')), mtimeOf(join(ROOT, 'tsconfig.build.json')));
  const rebuildServer = serverBuilt === 0 || serverBuilt < serverSources;
  // `nest build` empties dist/, the web build included, so the web build follows any server build.
  if (rebuildServer) run('npx', ['nest', 'build']);
  const webIndex = join(ROOT, 'dist', 'web', 'index.html');
  if (existsSync(join(ROOT, 'web')) && (rebuildServer || mtimeOf(webIndex) < newestMtime(join(ROOT, 'web')))) run('npm', ['run', 'build:web']);
}

/** Whether a Redis answers PING at this URL (ioredis handles passwords, TLS and database numbers). */
async function redisAnswers(url) {
  const Redis = require('ioredis');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolvePort(free));
    });
  });
}

function onPath(command) {
  return !spawnSync(command, ['--version'], { stdio: 'ignore' }).error;
}

async function ensureRedis() {
  const url = env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) {
    log(`using Redis at ${url}`);
    env.REDIS_URL = url;
    return;
  }
  if (!onPath('redis-server')) {
    fail(
      `No Redis answers at ${url}, and redis-server is not installed.\n` +
        '  Install Redis, then run npm start again:\n' +
        '    Debian/Ubuntu: sudo apt-get install redis-server\n' +
        '    macOS:         brew install redis\n' +
        '  or point REDIS_URL at a running Redis.',
    );
  }
  const redisPort = await freePort();
  const redisDir = join(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  log(`no Redis at ${url}; starting a private redis-server on port ${redisPort} (data in ${redisDir})`);
  // Own process group: a Ctrl-C in the terminal reaches only this script, which stops Redis after the service.
  privateRedis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'yes'], { stdio: 'ignore', detached: true });
  privateRedis.on('exit', (code, signal) => {
    if (!stopping) fail(`the private redis-server stopped unexpectedly (${signal ?? `exit ${code}`})`);
  });
  env.REDIS_URL = `redis://127.0.0.1:${redisPort}`;
  // The private Redis keeps an append-only file, so the service may promise that durability.
  env.REDIS_DURABILITY = env.REDIS_DURABILITY || 'aof';
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(env.REDIS_URL))) {
    if (Date.now() > deadline) fail('the private redis-server did not answer within 10 s');
    await sleep(100);
  }
}

function stopRedis() {
  if (privateRedis && privateRedis.exitCode === null) {
    stopping = true;
    privateRedis.kill('SIGTERM');
  }
}

function sleep(ms) {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

function startService() {
  // Own process group too, so that the service gets one signal (forwarded below), not one from the terminal as well.
  service = spawn(process.execPath, ['--max-semi-space-size=64', join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env, stdio: 'inherit', detached: true });
  service.on('exit', (code, signal) => {
    stopping = true;
    stopRedis();
    process.exit(code ?? (signal ? 1 : 0));
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      stopping = true;
      // The service shuts down gracefully on the signal (Nest shutdown hooks); the exit handler above follows.
      if (service.exitCode === null) service.kill(signal);
      else stopRedis();
    });
  }
}

function baseUrl() {
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
}

async function waitForHealth(base) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${base}/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail(`${base}/health did not answer 200 within 60 s`);
    await sleep(250);
  }
}

async function api(base, method, path, token, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The demo sale: the one listed with sku demo-phone, or a new one (reservations open now, start in 10 minutes). */
async function demoSale(base) {
  const listed = await api(base, 'GET', '/api/sales');
  const existing = listed.status === 200 ? listed.body.items.find((sale) => sale.sku === DEMO_SKU) : undefined;
  if (existing) return { sale: existing, created: false };
  const minted = await api(base, 'POST', '/api/dev/tokens', undefined, { userId: 'quickstart-ops', roles: ['ops'] });
  if (minted.status !== 201) return { sale: undefined, created: false, reason: 'dev tokens are disabled (AUTH_DEV_TOKENS=false or NODE_ENV=production)' };
  const startsAt = Date.now() + 10 * 60_000;
  const created = await api(base, 'POST', '/api/admin/sales', minted.body.token, {
    sku: DEMO_SKU,
    name: 'Demo phone',
    description: 'A demo flash sale created by npm start',
    priceCents: 69900,
    currency: 'CNY',
    stock: 100,
    fcodeStock: 10,
    perUserLimit: 1,
    reservationRequired: true,
    startsAt: new Date(startsAt).toISOString(),
  });
  if (created.status !== 201) return { sale: undefined, created: false, reason: `creating it answered ${created.status} ${JSON.stringify(created.body)}` };
  return { sale: created.body, created: true };
}

async function main() {
  build();
  await ensureRedis();
  startService();
  const base = baseUrl();
  await waitForHealth(base);
  const demo = await demoSale(base);
  const lines = [
    '',
    'Sellout is running.',
    `  API            ${base}/api`,
    `  API docs       ${base}/docs`,
    `  Storefront     ${base}/`,
    `  Ops console    ${base}/ops`,
    demo.sale
      ? `  Demo sale      ${demo.sale.id} (${demo.created ? 'created' : 'already there'}; reservations open, starts ${demo.sale.startsAt})`
      : `  Demo sale      not created: ${demo.reason}`,
    '  A dev token:',
    `    curl -s -X POST ${base}/api/dev/tokens -H 'content-type: application/json' -d '{"userId":"u1","roles":["ops"]}'`,
    `  Redis          ${env.REDIS_URL}${privateRedis ? ' (private, stopped with the service)' : ''}`,
    `  Database       ${env.DATABASE_URL ? env.DATABASE_URL.replace(/\/\/[^@/]*@/, '//…@') : `embedded (${join(dataDir, 'sellout.sqlite')})`}`,
    `Ctrl-C stops it.${process.env.LOG_LEVEL ? '' : ' Request logs: LOG_LEVEL=info npm start.'}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  fail(`quick start failed: ${error && error.message ? error.message : String(error)}`);
});
