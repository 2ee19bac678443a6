/**
 * Container resource limits for a notebook on a given flavor. The notebook gets the VM minus
 * headroom for the OS, sshd and dockerd, so a runaway kernel is killed inside the container
 * instead of wedging the VM (and with it SSH, the only way in).
 */
import type { Flavor } from "./flavors";

export interface ContainerLimits {
  /** Hard memory limit in MiB; swap is not allowed beyond it. */
  memoryMb: number;
  /** CPUs the container may use (fractional), as `docker run --cpus`. */
  cpus: number;
  /** Most processes and threads the notebook user may run (RLIMIT_NPROC). */
  processes: number;
}

/** The OS, sshd and dockerd keep at least this much memory, or a tenth of the VM if that is more. */
export const minMemoryHeadroomMb = 1024;
/** The host keeps half a CPU on multi-CPU flavors; a 1-CPU flavor keeps a tenth. */
const cpuHeadroom = 0.5;

export function containerLimits(flavor: Flavor): ContainerLimits {
  const ramMb = flavor.ramGb * 1024;
  const headroom = Math.max(minMemoryHeadroomMb, Math.ceil(ramMb * 0.1));
  const cpus = flavor.vcpus >= 2 ? flavor.vcpus - cpuHeadroom : flavor.vcpus * 0.9;
  return {
    memoryMb: ramMb - headroom,
    cpus: Math.round(cpus * 100) / 100,
    // Jupyter, a few kernels and their BLAS thread pools (one thread per CPU each) fit well within
    // this; a fork bomb does not.
    processes: Math.min(16384, 1024 + 256 * flavor.vcpus),
  };
}
