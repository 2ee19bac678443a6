/**
 * Container image references: one grammar for the notebook image (which must be pinned by digest)
 * and the proxy image (a version tag, resolved to its digest at deploy time, or a digest).
 */

// [registry[:port]/]path[:tag][@sha256:<64 hex>], the path in lower case.
const referencePattern =
  /^(?<repository>(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

export interface ImageRef {
  /** `[registry[:port]/]path`, e.g. `docker.io/instructor/jupyter-notebook` or `caddy`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex digits>`. */
  digest?: string;
}

/** The parts of an image reference, or undefined when `text` is not one. */
export function parseImageRef(text: string): ImageRef | undefined {
  const groups = referencePattern.exec(text)?.groups;
  if (!groups) return undefined;
  return {
    repository: groups.repository,
    ...(groups.tag !== undefined ? { tag: groups.tag } : {}),
    ...(groups.digest !== undefined ? { digest: groups.digest } : {}),
  };
}

/** True for a reference that names its content: `repository[:tag]@sha256:<64 hex digits>`. */
export function isDigestPinned(text: string): boolean {
  const ref = parseImageRef(text);
  return ref?.digest !== undefined;
}

/**
 * The repository of a reference: `caddy:2.11.4` -> `caddy`; `registry:5000/a/b:1` -> `registry:5000/a/b`.
 * Text that is not a reference is returned without its tag and digest as best it can be.
 */
export function imageRepository(reference: string): string {
  const parsed = parseImageRef(reference);
  if (parsed) return parsed.repository;
  const withoutDigest = reference.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const lastColon = withoutDigest.lastIndexOf(":");
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}
