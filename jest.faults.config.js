/**
 * The fault suite (`npm run test:faults`): real processes (the built service, redis-server, the
 * database) under faults. Kept apart from `npm test` because each scenario runs a whole sell-out.
 * DATABASE_URL selects PostgreSQL (a throwaway database per scenario), unset the embedded database.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: 'test/faults/.*\\.fault-spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  testEnvironment: 'node',
  testTimeout: 120000,
  moduleNameMapper: { '^@sellout/contract$': '<rootDir>/src/contract' },
};
