/**
 * The student's whole home is what is kept, on a real engine with the real image: the image declares
 * its home as its volume (the path the program mounts), a notebook saved where the Launcher saves it
 * survives a container replacement, the image's dotfiles reach a new volume once and never overwrite
 * a student's, and a volume made when only work/ was mounted is moved into work/ without losing or
 * hiding anything, even when the move is killed halfway.
 */
import { randomBytes } from "node:crypto";
import { notebookHome } from "../lib/notebookHome";
import {
  describeWithDocker,
  docker,
  notebookImage,
  waitFor,
  waitForHealthy,
} from "./support/docker";
import { jupyterApi, waitForHttp } from "./support/jupyter";
import { logsOf, NotebookContainers } from "./support/notebookContainer";

/** Where the volume of a stack made before homes were kept was mounted. */
const OLD_MOUNT = "/home/jupyter/work";
const MARKER = ".jetstream-notebook";
const STAGING = ".jetstream-notebook-moving";

/**
 * What a student left in a volume made the old way: notebooks, checkpoints, a dotfile, a folder
 * named work (their ~/work/work), a symlink, names a shell would trip on.
 */
const OLD_CONTENT = [
  "set -euo pipefail",
  "cd /home/jupyter/work",
  "echo notebook > analysis.ipynb",
  "mkdir -p .ipynb_checkpoints work/inner 'with space' && echo cp > .ipynb_checkpoints/analysis-checkpoint.ipynb",
  "echo deep > work/inner/deep.txt && echo spaced > 'with space/x.txt'",
  "echo dot > .hidden && echo z > Zoë.csv && echo dash > ./-rf",
  "ln -s analysis.ipynb link.ipynb",
].join("\n");

/** The same files as `find -printf '%y %P'` lists them once they are inside work/. */
const OLD_LISTING_IN_WORK = [
  "d work",
  "d work/.ipynb_checkpoints",
  "d work/with space",
  "d work/work",
  "d work/work/inner",
  "f work/-rf",
  "f work/.hidden",
  "f work/.ipynb_checkpoints/analysis-checkpoint.ipynb",
  "f work/Zoë.csv",
  "f work/analysis.ipynb",
  "f work/with space/x.txt",
  "f work/work/inner/deep.txt",
  "l work/link.ipynb",
];

describeWithDocker("notebook image: the student's whole home is kept", () => {
  const token = randomBytes(24).toString("hex");
  let image = "";
  const run = new NotebookContainers(() => image);

  beforeAll(async () => {
    image = await notebookImage();
  });

  afterAll(() => run.cleanup());

  /** Starts a server on `volume` and waits until it answers; returns its URL and name. */
  async function serve(volume: string, opts: { volumeNoCopy?: boolean; waitMs?: number } = {}) {
    const { waitMs = 120_000, ...startOpts } = opts;
    const c = await run.start({ JUPYTER_TOKEN: token }, { volume, ...startOpts });
    await waitForHttp(`${c.url}/api`, {}, waitMs);
    return c;
  }

  /** Makes a volume the way stacks made before this change did: mounted on work/, written there. */
  async function oldVolume(script = OLD_CONTENT): Promise<string> {
    const volume = run.volume("jn-img-old");
    await run.inVolume(volume, script, OLD_MOUNT);
    return volume;
  }

  /** Gives a new, empty volume (mounted where the image has nothing, so it stays empty) an owner. */
  async function ownEmptyVolume(volume: string, owner: string): Promise<void> {
    await docker([
      "run",
      "--rm",
      "--user",
      "0",
      "--mount",
      `type=volume,source=${volume},target=/v`,
      image,
      "bash",
      "-c",
      `chown ${owner} /v && chmod 2775 /v`,
    ]);
  }

  test("a home the notebook user cannot write is refused with a message that says why", async () => {
    const volume = run.volume();
    await ownEmptyVolume(volume, "0:0");
    const c = await run.start({ JUPYTER_TOKEN: token }, { volume, volumeNoCopy: true });
    const logs = await waitFor(
      "the container to exit",
      async () => {
        const state = await docker(["inspect", "--format", "{{.State.Status}}", c.name]);
        return state === "exited" ? logsOf(c.name) : undefined;
      },
      30_000,
    );
    expect(await docker(["inspect", "--format", "{{.State.ExitCode}}", c.name])).toBe("65");
    expect(logs).toContain("/home/jupyter is not writable by uid 1000 gid 100");
  });

  test("the image's one VOLUME is the home the program mounts", async () => {
    const volumes = JSON.parse(
      await docker(["image", "inspect", "--format", "{{json .Config.Volumes}}", image]),
    ) as Record<string, unknown>;
    expect(Object.keys(volumes)).toEqual([notebookHome]);
    expect(await docker(["image", "inspect", "--format", "{{.Config.WorkingDir}}", image])).toBe(
      notebookHome,
    );
  });

  test("a notebook saved at the home's root, as the Launcher does, survives docker rm and a new container", async () => {
    const volume = run.volume();
    const first = await serve(volume);
    // The server's root is where JupyterLab's Launcher saves Untitled.ipynb.
    const root = await jupyterApi<{ path: string; content: { name: string }[] }>(
      first.url,
      token,
      "GET",
      "/api/contents",
    );
    expect(root.path).toBe("");
    const made = await jupyterApi<{ path: string }>(first.url, token, "POST", "/api/contents", {
      type: "notebook",
    });
    expect(made.path).toBe("Untitled.ipynb");
    await docker(["exec", first.name, "bash", "-c", "echo 'ada' > ~/.gitconfig-mine"]);
    await docker(["rm", "--force", first.name]);

    const second = await serve(volume);
    const names = (
      await jupyterApi<{ content: { name: string }[] }>(second.url, token, "GET", "/api/contents")
    ).content.map((e) => e.name);
    expect(names).toContain("Untitled.ipynb");
    expect(await docker(["exec", second.name, "cat", `${notebookHome}/.gitconfig-mine`])).toBe(
      "ada",
    );
  });

  test.each([
    ["a new Docker volume (the engine copies the image's home)", false],
    ["an empty volume the engine does not fill (a bind mount, a Hub's PVC)", true],
  ])(
    "%s gets the image's dotfiles once; a student's edited .bashrc is never overwritten",
    async (_what, volumeNoCopy) => {
      const volume = run.volume();
      // A platform hands over an empty volume the notebook's group may write (a Hub's fsGroup).
      if (volumeNoCopy) await ownEmptyVolume(volume, "1000:100");
      const first = await serve(volume, { volumeNoCopy });
      const seeded = await docker([
        "exec",
        first.name,
        "bash",
        "-c",
        `cd ~ && ls -A && cat ${MARKER} && ls .cache/matplotlib`,
      ]);
      expect(seeded.split("\n")).toEqual(
        expect.arrayContaining([".bashrc", ".profile", MARKER, "work", "seeded"]),
      );
      expect(seeded).toMatch(/fontlist-v\d+\.json/);
      // The student edits .bashrc and deletes .profile: neither is put back.
      await docker([
        "exec",
        first.name,
        "bash",
        "-c",
        "echo 'alias ll=\"ls -l\" # mine' >> ~/.bashrc && rm ~/.profile",
      ]);
      await docker(["rm", "--force", first.name]);

      const second = await serve(volume, { volumeNoCopy });
      const after = await docker([
        "exec",
        second.name,
        "bash",
        "-c",
        "tail -n 1 ~/.bashrc; test -e ~/.profile && echo profile-back || echo profile-gone",
      ]);
      expect(after.split("\n")).toEqual(['alias ll="ls -l" # mine', "profile-gone"]);
    },
  );

  test("a volume made before homes were kept: its files move into work/, nothing lost, and a second start changes nothing", async () => {
    const volume = await oldVolume();
    const first = await serve(volume);
    await waitForHealthy(first.name, 120_000);
    const listing = await run.listVolume(volume);
    expect(listing).toEqual(expect.arrayContaining(OLD_LISTING_IN_WORK));
    // Nothing of the student's is left at the root, and the move's own staging is gone.
    const atRoot = listing.filter((l) => !l.includes("/")).map((l) => l.slice(2));
    expect(atRoot).toEqual(expect.arrayContaining([MARKER, ".bashrc", "work"]));
    expect(atRoot).not.toContain(STAGING);
    expect(atRoot).not.toContain("analysis.ipynb");
    expect(await docker(["exec", first.name, "readlink", "work/link.ipynb"])).toBe(
      "analysis.ipynb",
    );
    // The server shows the work where the student left it.
    const inWork = await jupyterApi<{ content: { name: string }[] }>(
      first.url,
      token,
      "GET",
      "/api/contents/work",
    );
    expect(inWork.content.map((e) => e.name)).toEqual(
      expect.arrayContaining(["analysis.ipynb", "Zoë.csv", "work", "with space"]),
    );
    await docker(["rm", "--force", first.name]);

    const second = await serve(volume);
    await waitForHealthy(second.name, 120_000);
    // The running server's own runtime files are named after its pid, which differs per start;
    // everything else, the student's files and the seeding's, must be as the first start left it.
    const lasting = (entries: string[]) => entries.filter((e) => !/\/runtime\/jpserver-/.test(e));
    expect(lasting(await run.listVolume(volume))).toEqual(lasting(listing));
  });

  test.each([
    [
      "killed after some entries moved",
      [
        `mkdir ${STAGING} && printf 'moving\\n' > ${MARKER}`,
        `mv analysis.ipynb .hidden work ${STAGING}/`,
      ],
    ],
    [
      "killed after the staging folder became work/, before the dotfiles",
      [
        `mkdir ${STAGING} && printf 'moving\\n' > ${MARKER}`,
        `shopt -s dotglob && for e in *; do [[ $e == ${STAGING} || $e == ${MARKER} ]] || mv -- "$e" ${STAGING}/; done`,
        `mv -T ${STAGING} work`,
      ],
    ],
    ["killed before the marker was written", [`mkdir ${STAGING}`]],
  ])("a move %s is finished by the next start", async (_what, interrupted) => {
    // The volume is left exactly as an interrupted move leaves it, then a server starts on it.
    const volume = await oldVolume(
      [OLD_CONTENT, "cd /home/jupyter/work", "shopt -s dotglob", ...interrupted].join("\n"),
    );
    await serve(volume);
    const listing = await run.listVolume(volume);
    expect(listing).toEqual(expect.arrayContaining(OLD_LISTING_IN_WORK));
    expect(listing.filter((l) => l.startsWith(`d ${STAGING}`))).toEqual([]);
    expect(await run.inVolume(volume, `cat /v/${MARKER}`)).toBe("seeded");
  });

  test("a move really killed halfway loses nothing and the next start finishes it", async () => {
    const files = 4000;
    const volume = await oldVolume(
      `cd ${OLD_MOUNT} && for i in $(seq 1 ${files}); do : > "f$i.txt"; done`,
    );
    const c = await run.start({ JUPYTER_TOKEN: token }, { volume });
    // Kill the container as soon as the move has started, the way a host shutdown would.
    await waitFor(
      "the move to start",
      async () => {
        const r = await docker([
          "exec",
          c.name,
          "bash",
          "-c",
          `test -d ~/${STAGING} && echo started || true`,
        ]).catch(() => "");
        return r === "started" ? true : undefined;
      },
      60_000,
      50,
    );
    await docker(["kill", c.name]);
    const interrupted = await run.listVolume(volume);
    const moved = interrupted.filter((l) => l.startsWith(`f ${STAGING}/`)).length;
    const left = interrupted.filter((l) => /^f f\d+\.txt$/.test(l)).length;
    const done = interrupted.filter((l) => /^f work\/f\d+\.txt$/.test(l)).length;
    // Every file is somewhere, exactly once.
    expect(moved + left + done).toBe(files);
    process.stderr.write(`killed with ${moved} moved, ${left} left, ${done} in work/\n`);

    // Finishing the move of 4,000 files is real work before the server starts (about 75 s alone
    // on 2 cores; more when other suites share them).
    await serve(volume, { waitMs: 240_000 });
    const finished = await run.listVolume(volume);
    expect(finished.filter((l) => /^f work\/f\d+\.txt$/.test(l))).toHaveLength(files);
    expect(finished.filter((l) => /^f f\d+\.txt$/.test(l) || l.includes(STAGING))).toEqual([]);
  });

  test("under a Hub, a home with files in it is not moved: only the missing dotfiles are added", async () => {
    const volume = await oldVolume();
    await run.inVolume(volume, "echo mine > /v/.bashrc");
    const c = await run.start(
      { JUPYTERHUB_API_TOKEN: "x", JUPYTER_TOKEN: token },
      { volume, command: ["bash", "-c", "seed-home.sh && ls -A ~ && cat ~/.bashrc"] },
    );
    const out = await waitFor(
      "the seed to finish",
      async () => {
        const state = await docker(["inspect", "--format", "{{.State.Status}}", c.name]);
        return state === "exited" ? docker(["logs", c.name]) : undefined;
      },
      30_000,
    );
    expect(out.split("\n")).toEqual(
      expect.arrayContaining(["analysis.ipynb", ".profile", "mine", MARKER]),
    );
  });
});
