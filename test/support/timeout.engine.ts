// The engine project's default per test: one container started, probed and removed on a shared
// engine. Image builds take longer and say so in the beforeAll that runs them.
jest.setTimeout(5 * 60_000);
