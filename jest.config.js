/** Jest runs the TypeScript sources directly through ts-jest. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // The shipped Node, named for every worker (ARC_REMOTE_SUPPORT_NODE).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};
