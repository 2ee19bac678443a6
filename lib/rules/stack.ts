/** Facts about a notebook stack that several modules need and only one may define. */

/** Where the notebook runs: the local Docker engine, or a Jetstream2 VM. */
export type Target = "local" | "jetstream";
export const targets: readonly Target[] = ["local", "jetstream"];

/** The namespace of every stack config key (`jetstream-notebooks:student`). */
export const configNamespace = "jetstream-notebooks";

/** The port Jupyter listens on inside its container, and the default published port. */
export const jupyterPort = 8888;

/**
 * Pulumi refuses a stack name longer than this; a workshop's stacks are `<stackPrefix>-<student>`.
 */
export const maxStackName = 100;
