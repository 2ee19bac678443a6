import * as fs from "node:fs";
import * as path from "node:path";
import { lintDockerfile, LintFinding } from "./support/dockerfileLint";
import { dockerContext } from "./support/docker";

/** A small Dockerfile that follows every rule; each bad case below breaks exactly one of them. */
const GOOD = `ARG BASE=debian:trixie-20260202-slim
FROM \${BASE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \\
    && apt-get install -y --no-install-recommends \\
        ca-certificates \\
        tini \\
    && rm -rf /var/lib/apt/lists/*
COPY start.sh /usr/local/bin/
USER 1000
EXPOSE 8888
HEALTHCHECK CMD ["healthcheck.sh"]
ENTRYPOINT ["tini", "--"]
CMD ["start.sh"]
LABEL org.opencontainers.image.source="https://example.org/repo" \\
    org.opencontainers.image.revision="abc" \\
    org.opencontainers.image.version="1" \\
    org.opencontainers.image.created="2026-01-01T00:00:00Z"
`;

function replace(from: string, to: string): string {
  if (!GOOD.includes(from)) throw new Error(`test setup: ${JSON.stringify(from)} not in GOOD`);
  return GOOD.replace(from, to);
}

const PIPEFAIL_MESSAGE =
  'RUN uses a pipe without SHELL ["/bin/bash", "-o", "pipefail", "-c"] before it; a failing command would be hidden';

const bad: [string, string, Omit<LintFinding, "rule"> & { rule: LintFinding["rule"] }][] = [
  [
    "FROM :latest",
    replace("ARG BASE=debian:trixie-20260202-slim", "ARG BASE=debian:latest"),
    {
      rule: "from-pinned",
      line: 2,
      message: "FROM debian:latest uses :latest; pin a dated tag or a digest",
    },
  ],
  [
    "FROM without tag",
    replace("FROM ${BASE}", "FROM debian"),
    {
      rule: "from-pinned",
      line: 2,
      message: "FROM debian has no tag or digest; pin a dated tag or a digest",
    },
  ],
  [
    "ADD",
    replace("COPY start.sh", "ADD start.sh"),
    {
      rule: "no-add",
      line: 9,
      message: "ADD fetches URLs and unpacks archives implicitly; use COPY",
    },
  ],
  [
    "apt-get update alone",
    replace("COPY start.sh", "RUN apt-get update && rm -rf /var/lib/apt/lists/*\nCOPY start.sh"),
    {
      rule: "apt-update-alone",
      line: 9,
      message:
        "apt-get update must share its RUN with apt-get install, or a cached update serves stale lists",
    },
  ],
  [
    "recommends installed",
    replace("install -y --no-install-recommends", "install -y"),
    {
      rule: "apt-no-recommends",
      line: 4,
      message: "apt-get install without --no-install-recommends",
    },
  ],
  [
    "apt lists left in the layer",
    replace("        tini \\\n    && rm -rf /var/lib/apt/lists/*", "        tini"),
    {
      rule: "apt-lists-removed",
      line: 4,
      message: "apt lists are not removed in the same RUN (rm -rf /var/lib/apt/lists/*)",
    },
  ],
  [
    "apt lists removed in a later RUN",
    replace("    && rm -rf /var/lib/apt/lists/*", "    && true\nRUN rm -rf /var/lib/apt/lists/*"),
    {
      rule: "apt-lists-removed",
      line: 4,
      message: "apt lists are not removed in the same RUN (rm -rf /var/lib/apt/lists/*)",
    },
  ],
  [
    "two packages on a line",
    replace("        ca-certificates \\\n        tini \\", "        ca-certificates tini \\"),
    {
      rule: "apt-one-per-line",
      line: 6,
      message: "apt-get install lists several packages on line 6; put one package per line",
    },
  ],
  [
    "unsorted packages",
    replace(
      "        ca-certificates \\\n        tini \\",
      "        tini \\\n        ca-certificates \\",
    ),
    {
      rule: "apt-sorted",
      line: 7,
      message: "apt-get install packages are not sorted: ca-certificates comes after tini",
    },
  ],
  [
    "pipe without pipefail",
    replace('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n', "").replace(
      "COPY start.sh",
      "RUN curl -fsS https://example.org | sh\nCOPY start.sh",
    ),
    { rule: "shell-pipefail", line: 8, message: PIPEFAIL_MESSAGE },
  ],
  [
    "pipefail set only after the pipe",
    replace(
      'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n',
      'RUN echo a | cat\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n',
    ),
    { rule: "shell-pipefail", line: 3, message: PIPEFAIL_MESSAGE },
  ],
  [
    "CMD in shell form",
    replace('CMD ["start.sh"]', "CMD start.sh"),
    {
      rule: "exec-form",
      line: 14,
      message:
        "CMD in shell form runs under /bin/sh -c, which does not pass on signals; use the JSON form",
    },
  ],
  [
    "no USER",
    replace("USER 1000\n", ""),
    {
      rule: "user-non-root",
      line: 2,
      message: "the final stage never switches to a non-root USER",
    },
  ],
  [
    "USER root last",
    replace("USER 1000\n", "USER 1000\nUSER root\n"),
    { rule: "user-non-root", line: 11, message: "the final USER is root; run as a non-root user" },
  ],
  [
    "USER 0 through an ARG",
    replace("USER 1000\n", "ARG UID=0\nUSER ${UID}:100\n"),
    { rule: "user-non-root", line: 11, message: "the final USER is 0; run as a non-root user" },
  ],
  [
    "no tini",
    replace('ENTRYPOINT ["tini", "--"]', 'ENTRYPOINT ["start.sh"]'),
    {
      rule: "entrypoint-tini",
      line: 13,
      message: "the ENTRYPOINT must be tini, so signals reach the server and zombies are reaped",
    },
  ],
  [
    "no HEALTHCHECK",
    replace('HEALTHCHECK CMD ["healthcheck.sh"]\n', ""),
    { rule: "healthcheck", line: 2, message: "the final stage has no HEALTHCHECK" },
  ],
  [
    "HEALTHCHECK NONE",
    replace('HEALTHCHECK CMD ["healthcheck.sh"]', "HEALTHCHECK NONE"),
    { rule: "healthcheck", line: 12, message: "the final stage has no HEALTHCHECK" },
  ],
  [
    "no EXPOSE",
    replace("EXPOSE 8888\n", ""),
    { rule: "expose", line: 2, message: "the final stage EXPOSEs no port" },
  ],
  [
    "missing OCI labels",
    replace(
      '    org.opencontainers.image.revision="abc" \\\n    org.opencontainers.image.version="1" \\\n',
      "",
    ),
    {
      rule: "oci-labels",
      line: 2,
      message:
        "the final stage is missing the labels org.opencontainers.image.revision, org.opencontainers.image.version",
    },
  ],
];

describe("lintDockerfile", () => {
  test("the reference Dockerfile of these tests passes every rule", () => {
    expect(lintDockerfile(GOOD)).toEqual([]);
  });

  test("docker/Dockerfile passes every rule", () => {
    const content = fs.readFileSync(path.join(dockerContext, "Dockerfile"), "utf8");
    expect(lintDockerfile(content)).toEqual([]);
  });

  test.each(bad)("%s is reported", (_name, dockerfile, finding) => {
    expect(lintDockerfile(dockerfile)).toEqual([finding]);
  });

  test("a stage built FROM an earlier stage needs no tag, and only the final stage is checked for USER", () => {
    const multiStage = `FROM debian:trixie-20260202-slim AS build\nRUN true\n${replace(
      "FROM ${BASE}",
      "FROM build",
    )}`;
    expect(lintDockerfile(multiStage)).toEqual([]);
  });

  test("several findings come back in file order", () => {
    const worse = replace("install -y --no-install-recommends", "install -y").replace(
      "USER 1000\n",
      "",
    );
    expect(lintDockerfile(worse).map((f) => [f.line, f.rule])).toEqual([
      [2, "user-non-root"],
      [4, "apt-no-recommends"],
    ]);
  });
});
