/**
 * Jetstream2 instance flavors this project knows how to size a notebook for, from Jetstream2's
 * published flavor table. SUs (service units) are what an allocation is charged: vCPUs per hour for
 * CPU flavors, twice that for large-memory ones.
 */
export interface Flavor {
  name: string;
  vcpus: number;
  ramGb: number;
  diskGb: number;
  /** Service units charged per hour while the instance is active (half when stopped, none shelved). */
  suPerHour: number;
}

const table: ReadonlyArray<Flavor> = [
  { name: "m3.tiny", vcpus: 1, ramGb: 3, diskGb: 20, suPerHour: 1 },
  { name: "m3.small", vcpus: 2, ramGb: 6, diskGb: 20, suPerHour: 2 },
  { name: "m3.quad", vcpus: 4, ramGb: 15, diskGb: 20, suPerHour: 4 },
  { name: "m3.medium", vcpus: 8, ramGb: 30, diskGb: 60, suPerHour: 8 },
  { name: "m3.large", vcpus: 16, ramGb: 60, diskGb: 60, suPerHour: 16 },
  { name: "m3.xl", vcpus: 32, ramGb: 125, diskGb: 60, suPerHour: 32 },
  { name: "m3.2xl", vcpus: 64, ramGb: 250, diskGb: 60, suPerHour: 64 },
  { name: "r3.large", vcpus: 64, ramGb: 500, diskGb: 60, suPerHour: 128 },
  { name: "r3.xl", vcpus: 128, ramGb: 1000, diskGb: 60, suPerHour: 256 },
];

export const flavors: ReadonlyMap<string, Flavor> = new Map(table.map((f) => [f.name, f]));

export const defaultFlavor = "m3.small";

/** The flavor by name, or undefined for one this project does not know. */
export function findFlavor(name: string): Flavor | undefined {
  return flavors.get(name);
}
