import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { imageBuildArgs, noCourseName, stageBuildContext } from "../lib/imageBuild";

/**
 * The image's build context, docker/, relative to the project's root (where Pulumi runs the
 * program): an absolute path would differ between checkouts, so another checkout would rebuild and
 * push a new digest and roll every student's container.
 */
export const defaultImageContext = "docker";

export interface JupyterImageArgs {
  /**
   * Repository the image is named and pushed as: `docker.io/<user>/<name>` to push to Docker Hub,
   * or a bare name such as `jupyter-notebook` for a local build (with `push` unset).
   */
  repository: pulumi.Input<string>;
  /** Tag, such as the package version. Never `latest`: config validation refuses it. */
  tag: pulumi.Input<string>;
  /**
   * Registry credentials to push with. Unset: the image is built on the local engine and not pushed
   * (the local target). `password` should be a Docker Hub access token, and a secret.
   */
  push?: {
    /** Registry host; default `docker.io`. */
    server?: pulumi.Input<string>;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
  };
  /**
   * Build context; default the repository's docker/ folder. A course is built in by passing the
   * context lib/imageBuild.ts staged for it, with its `courseName`.
   */
  context?: pulumi.Input<string>;
  /** The course's name (its folder under each student's ~/work/); default `course`. */
  courseName?: string;
  /** The index pip installs the course's requirements from; "" for none; default PyPI. */
  pipIndexUrl?: string;
  /**
   * Target platform. Default: `linux/amd64` when pushing (Jetstream2's VMs are x86_64, whatever
   * the instructor's laptop is), the engine's own platform otherwise.
   */
  platform?: pulumi.Input<string>;
  /**
   * Values for the image's OCI labels (build args VERSION, REVISION, CREATED). Each one that changes
   * rebuilds the image and rolls the container, so none of them is per-run: `created` should be the
   * commit's date, not now. Default: only VERSION, from `tag`.
   */
  labels?: { revision?: pulumi.Input<string>; created?: pulumi.Input<string> };
}

/**
 * The notebook image, built from docker/ and (for Jetstream2) pushed to Docker Hub. Built once per
 * workshop by the instructor's stack; student stacks take its `imageRef` instead of building.
 */
export class JupyterImage extends pulumi.ComponentResource {
  /**
   * The image pinned by content: `docker.io/<user>/<name>@sha256:...` when pushed, the local image
   * id `sha256:...` otherwise. A rebuild that changes nothing keeps it, so containers do not roll.
   */
  public readonly imageRef: pulumi.Output<string>;
  /** The `repository:tag` name (not unique per build: do not run containers by it). */
  public readonly imageName: pulumi.Output<string>;

  constructor(name: string, args: JupyterImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("jetstream-notebooks:image:JupyterImage", name, {}, opts);

    // The same arguments `npm run image` and the tests pass (lib/imageBuild.ts).
    const buildArgs = imageBuildArgs<pulumi.Input<string>>({
      version: args.tag,
      revision: args.labels?.revision,
      created: args.labels?.created,
      courseName: args.courseName ?? noCourseName,
      pipIndexUrl: args.pipIndexUrl,
    });

    const image = new docker.Image(
      name,
      {
        imageName: pulumi.interpolate`${args.repository}:${args.tag}`,
        build: {
          // The Dockerfile copies course/, so even the image without a course is built from a
          // staged context (docker/ and an empty course).
          context: args.context ?? stageBuildContext().context,
          dockerfile: "Dockerfile",
          args: buildArgs,
          platform: args.platform ?? (args.push ? "linux/amd64" : undefined),
        },
        skipPush: args.push === undefined,
        registry: args.push
          ? {
              server: args.push.server ?? "docker.io",
              username: args.push.username,
              password: pulumi.secret(args.push.password),
            }
          : undefined,
      },
      { parent: this },
    );

    this.imageRef = image.repoDigest;
    this.imageName = image.imageName;
    this.registerOutputs({ imageRef: this.imageRef, imageName: this.imageName });
  }
}
