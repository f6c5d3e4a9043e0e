/**
 * `npm run test:unit`: the fast tier, the *.unit.test.ts files only. They run in the jest process
 * with nothing installed by `npm test`'s pretest step: no PowerShell, waagent, Debian tools,
 * emulator or package build. test/support/unit-tier-guard.ts fails any of them that starts a
 * process, listens on a port or opens a connection, so a slow test cannot hide here.
 * `npm test` (jest.config.js) runs these files too, with every other one.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['**/*.unit.test.ts'],
  // The unit tier starts no process, so it needs no shipped Node.
  globalSetup: undefined,
  setupFilesAfterEnv: ['<rootDir>/test/support/unit-tier-guard.ts'],
  reporters: ['default', ['<rootDir>/test/support/unit-tier-reporter.js', { budgetSeconds: 60 }]],
};
