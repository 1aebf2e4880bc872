/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '(src|test)/.*\\.(spec|e2e-spec)\\.ts$',
  // Type checking is `npm run typecheck`; tests are transpiled only, which keeps them fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  // Every test closes what it opens, and globalTeardown stops the run's Redis; a handle that still slips
  // through (a reconnect timer of a client whose server is gone) must not keep a CI run waiting forever.
  forceExit: true,
  moduleNameMapper: {
    '^@sellout/contract$': '<rootDir>/src/contract',
    '^k6/crypto$': '<rootDir>/test/support/k6-shims/crypto.ts',
    '^k6/encoding$': '<rootDir>/test/support/k6-shims/encoding.ts',
  },
};
