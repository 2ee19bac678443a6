# Runs inside the throwaway export container (see export-helper.ts), never on the instructor's
# machine. Walks the student's volume, mounted read-only at /export/home, without following a single
# link, and writes to stdout one POSIX (pax) tar stream: every entry under `home/`, then MANIFEST.json,
# the list of what it wrote (path bytes, type, mode, owner, mtime, size, sha256, link target) and of
# what it could not read, with the reason. Hashes are computed from the very bytes written to the
# stream, in one pass, so memory stays flat whatever the file sizes.
import base64
import hashlib
import json
import os
import stat
import sys
import tarfile

ROOT = b"/export/home"
CHUNK = 1 << 18

out = sys.stdout.buffer
# The stream's buffer is as large as each read: tarfile's stream writer slices its buffer one
# bufsize at a time, and with its default 10 KiB against 1 MiB reads that copying dominated (a
# 1 GB file took minutes).
tf = tarfile.open(
    fileobj=out,
    mode="w|",
    bufsize=CHUNK,
    format=tarfile.PAX_FORMAT,
    encoding="utf-8",
    errors="surrogateescape",
)
tf.copybufsize = CHUNK
entries = []
errors = []
skipped = []


def b64(b):
    return base64.b64encode(b).decode("ascii")


def show(b):
    return b.decode("utf-8", "backslashreplace")


def arcname(rel):
    return os.fsdecode(b"home/" + rel if rel else b"home")


def header(rel, st, kind):
    ti = tarfile.TarInfo(arcname(rel))
    ti.type = kind
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid = st.st_uid
    ti.gid = st.st_gid
    ti.uname = ""
    ti.gname = ""
    ti.mtime = int(st.st_mtime)
    return ti


def record(rel, st, kind, **extra):
    e = {
        "p": b64(rel),
        "path": show(rel),
        "type": kind,
        "mode": stat.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "mtime": int(st.st_mtime),
    }
    e.update(extra)
    entries.append(e)


def problem(rel, what, err):
    errors.append({"p": b64(rel), "path": show(rel), "error": f"{what}: {err}"})


class Body:
    """Reads exactly `size` bytes from fd, hashing them; pads with zeros if the file shrank."""

    def __init__(self, fd, size):
        self.fd = fd
        self.left = size
        self.hash = hashlib.sha256()
        self.short = False

    def read(self, n):
        n = min(n, self.left)
        parts = []
        got = 0
        while got < n:
            b = os.read(self.fd, n - got)
            if not b:
                self.short = True
                parts.append(bytes(n - got))
                got = n
                break
            parts.append(b)
            got += len(b)
        data = b"".join(parts)
        self.left -= len(data)
        self.hash.update(data)
        return data


def add_file(rel, name, parent, st):
    try:
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK, dir_fd=parent
        )
    except OSError as e:
        problem(rel, "cannot open", e.strerror)
        return
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or before.st_ino != st.st_ino:
            problem(rel, "cannot read", "replaced while it was being read")
            return
        ti = header(rel, before, tarfile.REGTYPE)
        ti.size = before.st_size
        body = Body(fd, before.st_size)
        try:
            tf.addfile(ti, body)
        except OSError as e:
            # The header is already out: the stream is unusable, and the reader refuses it.
            raise SystemExit(f"read error in {show(rel)}: {e.strerror}")
        after = os.fstat(fd)
        record(rel, before, "file", size=before.st_size, sha256=body.hash.hexdigest())
        if body.short or after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
            problem(rel, "changed while it was being read", "the student is still writing it")
    finally:
        os.close(fd)


DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NOCTTY


def open_dir(rel, st):
    """The folder at `rel`, opened one component at a time below the root without following a link,
    and only if it is still the folder that was listed (same device and inode): a student who swaps
    a folder for a link while the walk goes on cannot lead it out of the volume."""
    fd = os.open(ROOT, DIR_FLAGS)
    try:
        for name in rel.split(b"/") if rel else []:
            child = os.open(name, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise OSError(0, "replaced while it was being read")
        return fd
    except BaseException:
        os.close(fd)
        raise


def walk():
    root = os.lstat(ROOT)
    tf.addfile(header(b"", root, tarfile.DIRTYPE))
    record(b"", root, "dir")
    stack = [(b"", root)]
    while stack:
        rel, st = stack.pop()
        try:
            parent = open_dir(rel, st)
        except OSError as e:
            problem(rel, "cannot list folder", e.strerror)
            continue
        try:
            walk_folder(rel, parent, stack)
        finally:
            os.close(parent)


def walk_folder(rel, parent, stack):
    try:
        # Names from a descriptor come as str; fsencode gives back their exact bytes.
        names = sorted(os.fsencode(n) for n in os.listdir(parent))
    except OSError as e:
        problem(rel, "cannot list folder", e.strerror)
        return
    # Reversed onto the stack so folders come out in name order; a folder's own entry always
    # precedes its contents.
    subdirs = []
    for name in names:
        crel = rel + b"/" + name if rel else name
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError as e:
            problem(crel, "cannot stat", e.strerror)
            continue
        m = st.st_mode
        if stat.S_ISDIR(m):
            tf.addfile(header(crel, st, tarfile.DIRTYPE))
            record(crel, st, "dir")
            subdirs.append((crel, st))
        elif stat.S_ISREG(m):
            add_file(crel, name, parent, st)
        elif stat.S_ISLNK(m):
            try:
                target = os.readlink(name, dir_fd=parent)
            except OSError as e:
                problem(crel, "cannot read link", e.strerror)
                continue
            ti = header(crel, st, tarfile.SYMTYPE)
            ti.linkname = os.fsdecode(target)
            tf.addfile(ti)
            record(crel, st, "symlink", target=b64(target), targetPath=show(target))
        elif stat.S_ISFIFO(m):
            tf.addfile(header(crel, st, tarfile.FIFOTYPE))
            record(crel, st, "fifo")
        else:
            kind = "socket" if stat.S_ISSOCK(m) else "device"
            skipped.append({"p": b64(crel), "path": show(crel), "kind": kind})
    stack.extend(reversed(subdirs))

walk()
manifest = json.dumps(
    {"version": 1, "entries": entries, "errors": errors, "skipped": skipped},
    separators=(",", ":"),
).encode("utf-8")
ti = tarfile.TarInfo("MANIFEST.json")
ti.size = len(manifest)
ti.mode = 0o600
ti.uname = ""
ti.gname = ""


class Bytes:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, n):
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


tf.addfile(ti, Bytes(manifest))
tf.close()
out.flush()
