/**
 * A Dockerfile linter for the lessons the notebook image follows (hadolint cannot be installed here).
 * Pure: it takes the Dockerfile's text and returns findings; the tests run it over docker/Dockerfile
 * and over small bad Dockerfiles, one per rule.
 */
import { DockerfileParser, Instruction, JSONInstruction, Label } from "dockerfile-ast";

export type LintRule =
  | "from-pinned"
  | "no-add"
  | "apt-update-alone"
  | "apt-no-recommends"
  | "apt-lists-removed"
  | "apt-one-per-line"
  | "apt-sorted"
  | "shell-pipefail"
  | "exec-form"
  | "user-non-root"
  | "entrypoint-tini"
  | "healthcheck"
  | "expose"
  | "oci-labels";

export interface LintFinding {
  rule: LintRule;
  /** One-based line of the instruction the finding is about (1 for findings about the whole file). */
  line: number;
  message: string;
}

/** Labels the image must carry so a running container can be traced to its source and build. */
export const REQUIRED_OCI_LABELS = [
  "org.opencontainers.image.source",
  "org.opencontainers.image.revision",
  "org.opencontainers.image.version",
  "org.opencontainers.image.created",
] as const;

interface Token {
  text: string;
  line: number;
}

const SHELL_OPERATORS = new Set(["&&", "||", ";", "|", "&"]);

/** Splits a RUN's source into words with their one-based line, dropping line continuations. */
function shellTokens(sourceLines: string[], first: number, last: number): Token[] {
  const tokens: Token[] = [];
  for (let i = first; i <= last; i++) {
    const text = (sourceLines[i] ?? "").replace(/\\\s*$/, "");
    if (/^\s*#/.test(text)) continue;
    for (const word of text.split(/\s+/).filter(Boolean)) {
      // `foo;` and `foo&&` end a command as surely as a separate operator does.
      const match = /^(.*?)(&&|\|\||;)$/.exec(word);
      if (match && match[1]) {
        tokens.push({ text: match[1], line: i + 1 });
        tokens.push({ text: match[2] ?? "", line: i + 1 });
      } else {
        tokens.push({ text: word, line: i + 1 });
      }
    }
  }
  return tokens;
}

/** The packages of every `apt-get install` in a RUN, each with the line it is written on. */
function aptInstalls(tokens: Token[]): Token[][] {
  const installs: Token[][] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i]?.text !== "apt-get") continue;
    // Options may come between apt-get and its command: `apt-get -y install`.
    let j = i + 1;
    while (j < tokens.length && (tokens[j]?.text ?? "").startsWith("-")) j++;
    if (tokens[j]?.text !== "install") continue;
    const packages: Token[] = [];
    for (j++; j < tokens.length; j++) {
      const token = tokens[j];
      if (SHELL_OPERATORS.has(token.text) || token.text.startsWith(">")) break;
      // Options and computed names ("${missing[@]}") are not package names to sort.
      if (token.text.startsWith("-") || token.text.includes("$")) continue;
      packages.push(token);
    }
    installs.push(packages);
  }
  return installs;
}

function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

function isExecForm(instruction: Instruction): boolean {
  return (instruction.getArgumentsContent() ?? "").trim().startsWith("[");
}

/** Lints a Dockerfile's text. Findings are in file order; an empty list means it passes. */
export function lintDockerfile(content: string): LintFinding[] {
  const dockerfile = DockerfileParser.parse(content);
  const sourceLines = content.split(/\r?\n/);
  const findings: LintFinding[] = [];
  const add = (rule: LintRule, line: number, message: string): void => {
    findings.push({ rule, line, message });
  };

  const instructions = dockerfile.getInstructions();
  const froms = instructions.filter((i) => i.getKeyword() === "FROM");
  if (froms.length === 0) {
    add("from-pinned", 1, "the Dockerfile has no FROM");
    return findings;
  }
  const lastFrom = froms[froms.length - 1];
  const finalStage = instructions.filter((i) => lineOf(i) >= lineOf(lastFrom));
  const stageNames = new Set<string>();
  let pipefail = false;

  for (const instruction of instructions) {
    const keyword = instruction.getKeyword();
    const line = lineOf(instruction);
    const args = instruction.getArgumentsContent() ?? "";

    if (keyword === "FROM") {
      const words = args.split(/\s+/).filter((w) => !w.startsWith("--"));
      const raw = words[0] ?? "";
      // A base named through a global ARG is checked as the ARG's default resolves it.
      const image = raw.replace(
        /\$\{?(\w+)\}?/g,
        (_m, name: string) => dockerfile.resolveVariable(name, line - 1) ?? "",
      );
      const fromStage = stageNames.has(image);
      if (words[1]?.toUpperCase() === "AS" && words[2]) stageNames.add(words[2]);
      if (fromStage || image === "scratch") continue;
      const withoutRegistryPort = image.replace(/^[^/]+:\d+\//, "");
      const digest = withoutRegistryPort.includes("@");
      const tag = withoutRegistryPort.split("@")[0]?.split(":")[1];
      if (tag === "latest") {
        add("from-pinned", line, `FROM ${image} uses :latest; pin a dated tag or a digest`);
      } else if (!tag && !digest) {
        add("from-pinned", line, `FROM ${image} has no tag or digest; pin a dated tag or a digest`);
      }
    }

    if (keyword === "ADD") {
      add("no-add", line, "ADD fetches URLs and unpacks archives implicitly; use COPY");
    }

    if (keyword === "SHELL") {
      const shell = (instruction as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
      const o = shell.indexOf("-o");
      pipefail = o >= 0 && shell[o + 1] === "pipefail";
    }

    if (keyword === "RUN") {
      const range = instruction.getRange();
      const tokens = shellTokens(sourceLines, range.start.line, range.end.line);
      if (tokens[0]?.text === "RUN") tokens.shift();
      const texts = tokens.map((t) => t.text);
      const hasUpdate = texts.some((t, k) => t === "update" && texts[k - 1] === "apt-get");
      const installs = aptInstalls(tokens);

      if (texts.includes("|") && !pipefail) {
        add(
          "shell-pipefail",
          line,
          'RUN uses a pipe without SHELL ["/bin/bash", "-o", "pipefail", "-c"] before it; a failing command would be hidden',
        );
      }
      if (hasUpdate && installs.length === 0) {
        add(
          "apt-update-alone",
          line,
          "apt-get update must share its RUN with apt-get install, or a cached update serves stale lists",
        );
      }
      if (installs.length > 0 && !texts.includes("--no-install-recommends")) {
        add("apt-no-recommends", line, "apt-get install without --no-install-recommends");
      }
      if (
        (hasUpdate || installs.length > 0) &&
        !/rm\s+-\w+\s+[^&;|]*\/var\/lib\/apt\/lists/.test(args)
      ) {
        add(
          "apt-lists-removed",
          line,
          "apt lists are not removed in the same RUN (rm -rf /var/lib/apt/lists/*)",
        );
      }
      for (const packages of installs) {
        if (packages.length < 2) continue;
        const crowded = packages.find((p, k) => packages.findIndex((q) => q.line === p.line) !== k);
        if (crowded) {
          add(
            "apt-one-per-line",
            crowded.line,
            `apt-get install lists several packages on line ${crowded.line}; put one package per line`,
          );
        }
        for (let k = 1; k < packages.length; k++) {
          const before = packages[k - 1];
          const after = packages[k];
          if (after.text < before.text) {
            add(
              "apt-sorted",
              after.line,
              `apt-get install packages are not sorted: ${after.text} comes after ${before.text}`,
            );
            break;
          }
        }
      }
    }

    if ((keyword === "CMD" || keyword === "ENTRYPOINT") && !isExecForm(instruction)) {
      add(
        "exec-form",
        line,
        `${keyword} in shell form runs under /bin/sh -c, which does not pass on signals; use the JSON form`,
      );
    }
  }

  const finalLine = lineOf(lastFrom);
  const last = (keyword: string): Instruction | undefined =>
    finalStage.filter((i) => i.getKeyword() === keyword).pop();

  const user = last("USER");
  if (!user) {
    add("user-non-root", finalLine, "the final stage never switches to a non-root USER");
  } else {
    const who = (user.getExpandedArguments()[0]?.getValue() ?? "").split(":")[0] ?? "";
    if (who === "root" || /^0+$/.test(who)) {
      add("user-non-root", lineOf(user), `the final USER is ${who}; run as a non-root user`);
    }
  }

  const entrypoint = last("ENTRYPOINT");
  const entry = entrypoint
    ? (entrypoint as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue())
    : [];
  if (!entrypoint || !/(^|\/)tini$/.test(entry[0] ?? "")) {
    add(
      "entrypoint-tini",
      entrypoint ? lineOf(entrypoint) : finalLine,
      "the ENTRYPOINT must be tini, so signals reach the server and zombies are reaped",
    );
  }

  const healthcheck = last("HEALTHCHECK");
  if (!healthcheck || /^\s*NONE\s*$/i.test(healthcheck.getArgumentsContent() ?? "")) {
    add(
      "healthcheck",
      healthcheck ? lineOf(healthcheck) : finalLine,
      "the final stage has no HEALTHCHECK",
    );
  }

  if (!last("EXPOSE")) {
    add("expose", finalLine, "the final stage EXPOSEs no port");
  }

  const labels = finalStage
    .filter((i): i is Label => i instanceof Label)
    .flatMap((i) => i.getProperties().map((p) => p.getName()));
  const missing = REQUIRED_OCI_LABELS.filter((label) => !labels.includes(label));
  if (missing.length > 0) {
    add("oci-labels", finalLine, `the final stage is missing the labels ${missing.join(", ")}`);
  }

  return findings.sort((a, b) => a.line - b.line);
}
