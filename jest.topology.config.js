/**
 * The topology suite (`npm run test:topology`): the built service as several processes (two instances and
 * a `WEB_CONCURRENCY=2` one) on a 3-master Redis Cluster with a replica each and PostgreSQL
 * (`DATABASE_URL`), under concurrent sell-outs, a killed instance and a failover. Kept apart from
 * `npm test` because it starts real processes and a cluster.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: 'test/topology/.*\\.topology-spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  testEnvironment: 'node',
  testTimeout: 180000,
};
