import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dataFetchScript, type DataSource } from "../lib/courseData";

export interface LocalCourseDataArgs {
  /** The file and its sha256 (`dataUrl`, `dataSha256`). */
  data: DataSource;
  /** An image with bash, curl and sha256sum to fetch with: the notebook's own (a local id). */
  image: pulumi.Input<string>;
  /** Labels on the volume (workshop and student). */
  labels?: Record<string, string>;
}

/** Where the fetch container mounts the volume. */
const fetchMount = "/data";

/**
 * Shared data on the local target: a Docker volume, filled once by a one-off container running the
 * same fetch script a VM runs at boot (lib/courseData.ts). A checksum that does not match fails
 * `pulumi up` with the URL and both sums. The notebook mounts the volume read-only.
 */
export class LocalCourseData extends pulumi.ComponentResource {
  /** The volume holding the data. */
  public readonly volumeName: pulumi.Output<string>;
  /** The fetch; the notebook waits for it. */
  public readonly fetch: command.local.Command;

  constructor(name: string, args: LocalCourseDataArgs, opts?: pulumi.ComponentResourceOptions) {
    super("jetstream-notebooks:data:LocalCourseData", name, {}, opts);

    const volume = new docker.Volume(
      name,
      {
        name,
        driver: "local",
        labels: Object.entries(args.labels ?? {}).map(([label, value]) => ({ label, value })),
      },
      { parent: this },
    );
    // The host's network, so that a URL on this machine (127.0.0.1) is reached as the person
    // means it. Root in the container only to own the new volume; no capabilities at all.
    this.fetch = new command.local.Command(
      `${name}-fetch`,
      {
        create: pulumi.interpolate`docker run --rm --network host --user 0:0 --cap-drop ALL --security-opt no-new-privileges:true -v ${volume.name}:${fetchMount} -e JN_DATA_FETCH --entrypoint bash ${args.image} -c "$JN_DATA_FETCH"`,
        environment: { JN_DATA_FETCH: dataFetchScript(args.data, fetchMount) },
        // A new URL or checksum fetches again into the same volume.
        triggers: [args.data.url, args.data.sha256],
      },
      { parent: this, dependsOn: [volume] },
    );

    this.volumeName = volume.name;
    this.registerOutputs({ volumeName: this.volumeName });
  }
}
