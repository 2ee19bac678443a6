/**
 * Per-student progress. In a terminal, a table redrawn in place (forty students fit on a screen; a
 * scrolling log of forty interleaved `pulumi up`s does not). Anywhere else (CI, a log file, a pipe),
 * one timestamped line per change, which greps and diffs well.
 */

import { formatTable } from "./table";

export interface Reporter {
  /** A student moved to a new phase (`selecting`, `updating`, `probing`, `ready`, `failed`...). */
  update(student: string, phase: string, detail?: string): void;
  /** A line not tied to one student. */
  note(line: string): void;
  /** Stops redrawing; the final state stays on screen. */
  close(): void;
}

interface Row {
  phase: string;
  detail: string;
  since: number;
}

export class PlainReporter implements Reporter {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly now: () => Date = () => new Date(),
  ) {}

  update(student: string, phase: string, detail?: string): void {
    this.out.write(
      `${this.now().toISOString()} ${student}: ${phase}${detail ? ` (${detail})` : ""}\n`,
    );
  }

  note(line: string): void {
    this.out.write(`${this.now().toISOString()} ${line}\n`);
  }

  close(): void {}
}

export class TtyReporter implements Reporter {
  private readonly rows = new Map<string, Row>();
  private readonly notes: string[] = [];
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    students: readonly string[],
  ) {
    for (const s of students) this.rows.set(s, { phase: "waiting", detail: "", since: Date.now() });
    // Redraw on a clock too, so elapsed times tick while a long `up` says nothing.
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
    this.draw();
  }

  update(student: string, phase: string, detail?: string): void {
    this.rows.set(student, { phase, detail: detail ?? "", since: Date.now() });
    this.draw();
  }

  note(line: string): void {
    this.notes.push(line);
    this.draw();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
  }

  private draw(): void {
    const width = this.out.columns ?? 120;
    const now = Date.now();
    const table = formatTable([
      ["student", "phase", "for", "detail"],
      ...[...this.rows].map(([student, r]) => [
        student,
        r.phase,
        `${Math.round((now - r.since) / 1000)}s`,
        r.detail,
      ]),
    ])
      .split("\n")
      .map((l) => (l.length > width - 1 ? `${l.slice(0, width - 2)}…` : l));
    const counts = new Map<string, number>();
    for (const r of this.rows.values()) counts.set(r.phase, (counts.get(r.phase) ?? 0) + 1);
    const summary = [...counts].map(([p, n]) => `${n} ${p}`).join(", ");
    const lines = [...this.notes.slice(-5), ...table, summary];
    // Move up over the last drawing and clear it, then draw again.
    let text = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : "";
    text += `${lines.join("\n")}\n`;
    this.out.write(text);
    this.drawnLines = lines.length;
  }
}

export function makeReporter(out: NodeJS.WriteStream, students: readonly string[]): Reporter {
  return out.isTTY ? new TtyReporter(out, students) : new PlainReporter(out);
}
