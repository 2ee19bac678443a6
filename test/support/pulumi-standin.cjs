#!/usr/bin/env node
// A stand-in for the Pulumi CLI, for tests of the workshop command's real Automation API driver.
// It answers the commands the driver runs from stacks kept as JSON files, and records every
// invocation (argv, environment, stdin, signals received) so a test can check what a real CLI would
// have been given. Plain CommonJS so it starts fast; it is run once per CLI command.
//
// Environment (set by the test, inherited through the workshop command):
//   STANDIN_DIR        folder for stacks/ and calls/ (required)
//   STANDIN_UP_MS      how long `up` and `destroy` take (default 0)
//   STANDIN_UP_FAIL    when set, `up` fails with this text on stderr
//   STANDIN_CONFIG_MS  how long `config set`/`set-all` take (default 0)
//   STANDIN_CONFIG_FAIL when set, `config set`/`set-all` fail with this text on stderr
//   STANDIN_URL        the notebookUrl output of a stack that is up (default none)
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const dir = process.env.STANDIN_DIR;
if (!dir) {
  process.stderr.write("STANDIN_DIR not set\n");
  process.exit(2);
}
const args = process.argv.slice(2);
// Only `config set` without a value reads stdin (as pulumi does); other commands leave it alone,
// since a caller may keep it open.
const stdinText =
  args[0] === "config" && args[1] === "set"
    ? (() => {
        try {
          return fs.readFileSync(0, "utf8");
        } catch {
          return "";
        }
      })()
    : "";
const callsDir = path.join(dir, "calls");
const stacksDir = path.join(dir, "stacks");
fs.mkdirSync(callsDir, { recursive: true });
fs.mkdirSync(stacksDir, { recursive: true });
const record = {
  pid: process.pid,
  pgid: undefined,
  argv: args,
  env: { ...process.env },
  stdin: stdinText,
  signals: [],
  started: Date.now(),
};
try {
  // Field 5 of /proc/self/stat is the process group, field 6 the session.
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  record.pgid = Number(fields[2]);
  record.sid = Number(fields[3]);
} catch {
  // Not Linux: leave them out.
}
const callFile = path.join(callsDir, `${Date.now()}-${process.pid}.json`);
// Written whole then renamed, so a reader never sees half a record.
const save = () => {
  fs.writeFileSync(`${callFile}.tmp`, JSON.stringify(record));
  fs.renameSync(`${callFile}.tmp`, callFile);
};
save();

function flag(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
// `stack init NAME` names its stack as a positional; every other command with --stack.
const stackName =
  flag("--stack") ?? (args[0] === "stack" && args[1] === "init" ? args[2] : undefined);
const stackFile = (name) => path.join(stacksDir, `${name}.json`);
const load = (name) => JSON.parse(fs.readFileSync(stackFile(name), "utf8"));
const store = (name, s) => fs.writeFileSync(stackFile(name), JSON.stringify(s));
const exists = (name) => fs.existsSync(stackFile(name));
function fail(text, code = 255) {
  process.stderr.write(`${text}\n`);
  record.exit = code;
  save();
  process.exit(code);
}
function done(out = "") {
  if (out) process.stdout.write(out);
  record.exit = 0;
  save();
  process.exit(0);
}
function needStack() {
  if (!stackName || !exists(stackName)) fail(`error: no stack named '${stackName}' found`);
  return load(stackName);
}
const positional = args.filter(
  (a, i) =>
    !a.startsWith("-") &&
    !(
      i > 0 &&
      /^--(stack|color|exec-kind|client|secrets-provider|page-size|page)$/.test(args[i - 1])
    ),
);

function slowly(ms, then) {
  // Signals are recorded, as pulumi would see them: the first SIGINT cancels gracefully.
  const timer = setTimeout(then, ms);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      record.signals.push(sig);
      save();
      if (sig === "SIGINT") {
        clearTimeout(timer);
        process.stdout.write("received interrupt, cancelling the update gracefully\n");
        fail("error: update canceled");
      }
    });
  }
}

const [cmd, sub] = positional;
if (cmd === "version") done("v3.248.0\n");
if (cmd === "stack" && sub === "ls") {
  const names = fs
    .readdirSync(stacksDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5));
  done(JSON.stringify(names.map((name) => ({ name, current: false, updateInProgress: false }))));
}
if (cmd === "stack" && (sub === "select" || sub === "init")) {
  if (!exists(stackName)) {
    if (sub === "select" && !args.includes("--create"))
      fail(`error: no stack named '${stackName}' found`);
    store(stackName, { config: {}, history: [], up: false });
  }
  done();
}
if (cmd === "config" && sub === undefined) {
  const s = needStack();
  done(JSON.stringify(s.config));
}
if (cmd === "config" && (sub === "set" || sub === "set-all")) {
  const pause = Number(process.env.STANDIN_CONFIG_MS ?? "0");
  if (pause > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
  const s = needStack();
  if (process.env.STANDIN_CONFIG_FAIL) fail(process.env.STANDIN_CONFIG_FAIL);
  if (sub === "set") {
    const key = positional[2];
    const value = positional[3] ?? stdinText.replace(/\n$/, "");
    s.config[key] = { value, secret: args.includes("--secret") };
  } else {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === "--plaintext" || args[i] === "--secret") {
        const kv = args[i + 1];
        const eq = kv.indexOf("=");
        s.config[kv.slice(0, eq)] = { value: kv.slice(eq + 1), secret: args[i] === "--secret" };
      }
    }
  }
  store(stackName, s);
  done();
}
if (cmd === "config" && sub === "rm-all") {
  const s = needStack();
  for (const k of positional.slice(2)) delete s.config[k];
  store(stackName, s);
  done();
}
if (cmd === "stack" && sub === "history") {
  const s = needStack();
  done(
    JSON.stringify(
      s.history
        .slice()
        .reverse()
        .map((result, i) => ({
          version: i + 1,
          result,
          kind: "update",
          startTime: "2026-01-01T00:00:00Z",
          endTime: "2026-01-01T00:00:01Z",
          message: "",
        })),
    ),
  );
}
if (cmd === "stack" && sub === "output") {
  const s = needStack();
  const url = process.env.STANDIN_URL;
  done(
    JSON.stringify(
      s.up && url
        ? {
            notebookUrl: args.includes("--show-secrets") ? url : "[secret]",
            hostname: "h.example.org",
          }
        : {},
    ),
  );
}
if (cmd === "up" || cmd === "destroy") {
  const s = needStack();
  process.stdout.write(`${cmd === "up" ? "Updating" : "Destroying"} (${stackName})\n`);
  slowly(Number(process.env.STANDIN_UP_MS ?? "0"), () => {
    const failText = cmd === "up" ? process.env.STANDIN_UP_FAIL : undefined;
    const latest = load(stackName);
    latest.history.push(failText ? "failed" : "succeeded");
    latest.up = cmd === "up" && !failText;
    store(stackName, latest);
    if (failText) {
      process.stdout.write(
        `Diagnostics:\n  pulumi:pulumi:Stack (${stackName}):\n    error: ${failText}\n`,
      );
      fail(`error: update failed: ${failText}`);
    }
    done(`Resources:\n    5 ${cmd === "up" ? "unchanged" : "deleted"}\n`);
  });
  void s;
} else if (cmd === "stack" && sub === "rm") {
  fs.rmSync(stackFile(stackName), { force: true });
  done();
} else {
  fail(`stand-in pulumi: unknown command ${args.join(" ")}`, 2);
}
