/**
 * An exporter for orchestration and CLI tests over the simulated backend, which has no Docker
 * volumes to read: it writes a one-line archive per student and fails, as an unreachable engine
 * would, for students in `broken`. The real export runs on the engine in test/export.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ExportError, type ExportManifest } from "../../workshop/export";
import type { OrchestratorOptions } from "../../workshop/orchestrator";

export function standInExporter(
  broken: Set<string> = new Set(),
  log: string[] = [],
  stopped: string[] = [],
): OrchestratorOptions["exporter"] {
  return ({ student, source, outDir, stopNotebook }) => {
    log.push(student);
    if (stopNotebook) stopped.push(student);
    if (broken.has(student)) {
      return Promise.reject(
        new ExportError(student, `the export container on the local Docker engine failed: gone`),
      );
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `${student}.tar.gz`), source.volume);
    const manifest: ExportManifest = {
      student,
      source: "the local Docker engine",
      volume: source.volume,
      image: source.image,
      exportedAt: "2031-01-05T12:00:00.000Z",
      durationMs: 1200,
      fileCount: 3,
      folderCount: 2,
      linkCount: 0,
      totalBytes: 2_500_000,
      skipped: [],
      entries: [],
      archive: { file: `${student}.tar.gz`, bytes: 1_000_000, sha256: "0".repeat(64) },
    };
    return Promise.resolve(manifest);
  };
}
