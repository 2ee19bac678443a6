/**
 * Two projects in one run: `unit` (pure functions, mocks, the simulated backend, command-line tools;
 * in parallel) and `engine` (suites that build and run containers on the real Docker engine; one at a
 * time). `npm run test:unit` is the inner loop; `npm test` runs both. Each project's default test
 * timeout is set in its setup file (jest reads no testTimeout per project); suites that need longer
 * say so themselves (an image build in a beforeAll, for example).
 */
const engineSuites = [
  "image",
  "image.conventions",
  "image.home",
  "localSpec",
  "tlsProxy",
  "export",
  "down-safety",
  "courseImage",
  "courseData",
  "reset",
].map((name) => `<rootDir>/test/${name}.test.ts`);

const shared = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...engineSuites],
      setupFilesAfterEnv: ["<rootDir>/test/support/timeout.unit.ts"],
    },
    {
      ...shared,
      displayName: "engine",
      testMatch: engineSuites,
      runner: "<rootDir>/test/support/serial-runner.js",
      setupFilesAfterEnv: ["<rootDir>/test/support/timeout.engine.ts"],
    },
  ],
};
