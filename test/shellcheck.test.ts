import * as fs from "node:fs";
import * as path from "node:path";
import { describeWithTool, exec, hasCommand, repoRoot } from "./support/docker";

/** Every shell script the project ships or runs in CI: the image's and the provisioning scripts. */
function shellScripts(): string[] {
  const dockerScripts = fs
    .readdirSync(path.join(repoRoot, "docker"))
    .filter((f) => f.endsWith(".sh"))
    .map((f) => path.join("docker", f));
  return [...dockerScripts, ".ci/base-image", ".ci/provision", ".ci/run"];
}

describeWithTool(
  "shellcheck",
  "shellcheck (apt-get install shellcheck)",
  hasCommand("shellcheck"),
  () => {
    test("finds the image's scripts, so the check below covers them", () => {
      expect(shellScripts()).toEqual(
        expect.arrayContaining(["docker/healthcheck.sh", "docker/start-notebook.sh"]),
      );
    });

    test.each(shellScripts())("%s is shellcheck-clean", async (script) => {
      // Run from the repository root so findings name the script as the test does.
      const result = await exec("sh", [
        "-c",
        'cd "$1" && shellcheck --external-sources "$2"',
        "sh",
        repoRoot,
        script,
      ]);
      expect(`${result.stdout}${result.stderr}`).toBe("");
      expect(result.code).toBe(0);
    });

    test("shellcheck really reports problems (an unquoted variable)", async () => {
      const result = await exec("shellcheck", ["--shell=bash", "-"], {
        input: "#!/usr/bin/env bash\nrm -rf $1/tmp\n",
      });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toContain("SC2086");
    });
  },
);
