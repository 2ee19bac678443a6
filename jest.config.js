/** @type {import('jest').Config} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Image and engine tests build and run real containers; a slow first build must not be cut short.
  testTimeout: 20 * 60 * 1000,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }],
  },
};
