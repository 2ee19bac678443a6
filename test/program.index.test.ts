/**
 * index.ts itself, under mocks: config read from the stack, validated, wired, exported. One import
 * per test file (a module runs once), so the failing case is in program.indexError.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { isSecret, only, promiseOf, runMocked } from "./mocks";

test("reads the dev stack's config and exports every contract output", async () => {
  pulumi.runtime.setAllConfig({
    "jetstream-notebooks:target": "local",
    "jetstream-notebooks:student": "",
    "jetstream-notebooks:buildImage": "true",
    "jetstream-notebooks:notebookPort": "18080",
    "jetstream-notebooks:dockerHubToken": "",
  });
  const run = await runMocked(() => import("../index"), { stack: "dev" });
  const index = run.result;
  expect(Object.keys(index).sort()).toEqual(
    [
      "expires",
      "hostname",
      "imageRef",
      "notebookUrl",
      "publicIp",
      "securityGroupId",
      "sshCommand",
      "sshPrivateKey",
      "sshHostPublicKey",
      "sshUser",
      "student",
      "volumeName",
      "target",
      "workshop",
    ].sort(),
  );
  // The student defaults to the stack name.
  expect(index.student).toBe("dev");
  expect(only(run.resources, "docker:index/container:Container").inputs.name).toBe(
    "workshop-dev-notebook",
  );
  expect(await promiseOf(index.notebookUrl)).toMatch(/^http:\/\/127\.0\.0\.1:18080\/lab\?token=/);
  expect(await isSecret(index.notebookUrl)).toBe(true);
});
