/**
 * Headless Chromium for tests that need a real browser: Debian's `chromium` here and in CI, or
 * whatever `CHROMIUM` names (GitHub's runners ship Google Chrome; Ubuntu's chromium is a snap stub).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exec } from "./docker";

/** The browser's path, or undefined when none is installed. */
export function findChromium(): string | undefined {
  for (const candidate of [process.env.CHROMIUM, "chromium", "chromium-browser", "google-chrome"]) {
    if (!candidate) continue;
    try {
      return execFileSync("sh", ["-c", 'command -v "$1"', "sh", candidate], { stdio: "pipe" })
        .toString()
        .trim();
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/**
 * Runs the browser headless with a fresh profile and returns what it printed. The flags keep it
 * off the network except for the page asked for (background services would dial out and fail).
 */
export async function headlessChromium(args: string[], timeoutMs = 120_000): Promise<string> {
  const browser = findChromium();
  if (!browser) throw new Error("no chromium found: apt-get install chromium, or set CHROMIUM");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "jn-chromium-"));
  try {
    const result = await exec(
      browser,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeoutMs },
    );
    if (result.code !== 0) {
      throw new Error(`chromium exited ${result.code}: ${result.stderr.slice(-2000)}`);
    }
    return result.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
