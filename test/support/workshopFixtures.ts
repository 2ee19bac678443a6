/**
 * The workshop every settings, plan and CLI test starts from: a valid jetstream workshop whose last
 * day is 2030-06-30, and a clock set to the day before it (36 hours to the end of that last day), so
 * no test starts failing on a calendar date.
 */

/** A valid workshop.yaml for the jetstream target, as a document. */
export const jetstreamSettings: Readonly<Record<string, string>> = {
  workshop: "intro",
  target: "jetstream",
  expires: "2030-06-30",
  image: `docker.io/instructor/jupyter-notebook@sha256:${"a".repeat(64)}`,
  sshCidr: "203.0.113.7/32",
  // HTTPS is the default on jetstream; its certificate is for the allocation's DNS name.
  allocation: "tra000000",
};

/** The day before the workshop's last day. */
export const dayBeforeEnd = new Date("2030-06-29T12:00:00Z");
