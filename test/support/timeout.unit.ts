// The unit project's default per test: command-line tools (cloud-init, shellcheck, caddy,
// action-validator) on a busy machine. Headless chromium has a 2-minute limit of its own, so its
// clearer message comes first.
jest.setTimeout(3 * 60_000);
