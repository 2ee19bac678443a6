/**
 * Runs one export in a process of its own, so a test can read that process's peak memory: prints
 * one JSON line with the manifest's counts, the time taken and the maximum resident set size.
 * Arguments: student, volume, image, outDir.
 */
import { exportStudent } from "../../workshop/export";

async function main(): Promise<void> {
  const [student, volume, image, outDir] = process.argv.slice(2);
  const started = process.hrtime.bigint();
  const m = await exportStudent({ student, volume, image, outDir, engine: { kind: "local" } });
  process.stdout.write(
    `${JSON.stringify({
      fileCount: m.fileCount,
      totalBytes: m.totalBytes,
      archiveBytes: m.archive.bytes,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      // resourceUsage reports kilobytes.
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
