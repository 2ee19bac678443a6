/**
 * Where the notebook image keeps a student's files, shared by the image's tests, the program that
 * mounts the student's volume and anything that reads that volume back. Pure, so the workshop command
 * can import it without loading Pulumi.
 */

/**
 * The notebook user's home, `/home/jupyter`: the image declares it as its only VOLUME and every
 * stack mounts the student's volume here, so everything the student can save (notebooks made from
 * the Launcher at the root, dotfiles, `.git`, `work/`) is kept. A volume made when only `work/` was
 * mounted is moved into `work/` by the image on its first start (see docs/config.md).
 */
export const notebookHome = "/home/jupyter";

/** The folder inside the home where the work of a volume made before homes were kept ends up. */
export const notebookWorkDir = `${notebookHome}/work`;
