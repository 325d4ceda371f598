"""Puts a freshly forked process into a sandbox: its own empty world, no network, limits.

On Linux with unprivileged user namespaces the process gets new user, mount,
network, pid, IPC and UTS namespaces and is chrooted into a tmpfs that holds
only read-only system and Python directories plus a fresh working directory:
the course directory, the gradebook, other submissions and the hidden tests do
not exist there. Where namespaces are unavailable, grading still works with
resource limits only, and ``isolation_report`` says so loudly.
"""
from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import sys
from dataclasses import asdict, dataclass, fields
from typing import ClassVar
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
# statvfs flags that a read-only remount must keep (the kernel refuses to drop locked ones)
_KEEP = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC}

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; each is a ``c.SandboxedExecute.<name>`` setting."""

    memory_mb: int = 4096
    cpu_seconds: int = 120
    wall_seconds: float = 300.0
    step_seconds: float = 60.0
    output_kb: int = 256
    processes: int = 64
    disk_mb: int = 256

    HELP: ClassVar[dict[str, str]] = {
        "memory_mb": "address space of the student's process, MiB (JAX needs >= 2048)",
        "cpu_seconds": "CPU seconds of the student's process",
        "wall_seconds": "wall seconds for everything one submission may take",
        "step_seconds": "wall seconds for one cell or one hidden test",
        "output_kb": "captured output kept per cell, KiB",
        "processes": "processes the student code may run at once (counted in the sandbox's pid namespace; "
                     "not limited without isolation)",
        "disk_mb": "writable space in the sandbox, MiB",
    }

    @classmethod
    def from_dict(cls, values: dict) -> "Limits":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def as_dict(self) -> dict:
        return asdict(self)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, dst, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
    _check(_libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {dst}")


def _bind_readonly(src: str, dst: Path) -> None:
    if os.path.isdir(src):
        dst.mkdir(parents=True, exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.touch()
    _mount(src, dst, None, MS_BIND | MS_REC)
    flags = os.statvfs(src).f_flag
    keep = sum(ms for st, ms in _KEEP.items() if flags & st)
    _mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)


def visible_paths() -> list[str]:
    """What the sandbox may read: the system and this Python, nothing of the course or the repo."""
    wanted = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt"]
    wanted += [sys.prefix, sys.base_prefix, sys.exec_prefix]
    wanted += [p for p in sys.path if "-packages" in p]
    out = []
    for p in wanted:
        p = os.path.realpath(p) if not os.path.islink(p) else p
        if p and os.path.exists(p) and p not in out:
            out.append(p)
    # a directory already inside another one needs no mount of its own
    return [p for p in out if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in out)]


CACHE_MOUNT = "/jax-cache"


def enter(root: Path, files_from: Path | None, limits: Limits, cache: tuple[str, bool] | None = None,
          hide: tuple[str, ...] = ()) -> None:
    """In a new child: isolate it and make ``root`` (an empty directory) its whole world.

    ``hide`` names directories that must not be seen even where they lie inside a
    system directory the sandbox reads (a course kept under ``/opt``, say): each is
    covered with an empty file system.

    After this returns, the caller must fork once more: that grandchild is pid 1
    of the new pid namespace and must call ``finish_in_pid1``.
    """
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
                         | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits.disk_mb}m,mode=755")
    visible = visible_paths()
    for path in visible:
        target = root / path.lstrip("/")
        if os.path.islink(path):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(path), target)
        else:
            _bind_readonly(path, target)
    for secret in hide:
        _cover(root, os.path.realpath(secret), visible)
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    for node in ("null", "zero", "full", "random", "urandom", "tty"):
        if os.path.exists(f"/dev/{node}"):
            (dev / node).touch()
            _mount(f"/dev/{node}", dev / node, None, MS_BIND)
    for gpu in sorted(p for p in os.listdir("/dev") if p.startswith("nvidia")):
        # a CUDA course needs the GPU device files; nothing else of /dev
        target = dev / gpu
        if os.path.isdir(f"/dev/{gpu}"):
            _bind_readonly(f"/dev/{gpu}", target)
        else:
            target.touch()
            _mount(f"/dev/{gpu}", target, None, MS_BIND)
    (dev / "shm").mkdir()
    if os.path.isdir("/sys"):
        _bind_readonly("/sys", root / "sys")  # CPU and GPU discovery read it
    for d in ("proc", "tmp", "work"):
        (root / d).mkdir(exist_ok=True)
    if cache is not None:
        # JAX's compilation cache, filled by the instructor's reference run: read-only for students,
        # so one submission cannot plant compiled code that another one runs
        path, writable = cache
        target = root / CACHE_MOUNT.lstrip("/")
        if writable:
            target.mkdir()
            _mount(path, target, None, MS_BIND)
        else:
            _bind_readonly(path, target)
    os.chmod(root / "tmp", 0o1777)
    if files_from is not None:
        copy_own_files(files_from, root / "work")
    os.chroot(root)
    os.chdir("/work")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _cover(root: Path, secret: str, visible: list[str]) -> None:
    """An empty, read-only file system over ``secret`` if a visible directory holds it."""
    if not any(_inside(secret, p) and p != secret for p in visible if not os.path.islink(p)):
        return
    target = root / secret.lstrip("/")
    if not target.is_dir():
        return
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path in visible:  # e.g. the Python that runs the grader, installed inside the course
        if _inside(path, secret) and path != secret and not os.path.islink(path):
            _bind_readonly(path, root / path.lstrip("/"))
    _mount(None, target, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, "size=1m,mode=755")


def hidden_paths(course_root: str) -> tuple[str, ...]:
    """What no sandbox may see even where it lies inside a system directory: the course, the repository."""
    from autograder import paths

    out = [os.path.realpath(course_root)]
    if (paths.ROOT / "solutions").is_dir():  # a checkout (an installed package has no solutions)
        out.append(str(paths.ROOT.resolve()))
    return tuple(out)


FILES_LIMIT_BYTES = 64 * 2**20  # the files beside a submission's notebook; more is refused, never cut


def own_files(src: Path) -> list[tuple[str, Path]]:
    """(relative path, path) of a submission's regular files: a symlink could point at the course."""
    out = []
    for folder, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and not os.path.islink(os.path.join(folder, d)))
        rel = os.path.relpath(folder, src)
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                out.append((os.path.normpath(os.path.join(rel, name)), path))
    return out


def own_files_size(src: str | None) -> int:
    if not src or not os.path.isdir(src):
        return 0
    return sum(path.stat().st_size for _, path in own_files(Path(src)))


def copy_own_files(src: Path, dst: Path) -> None:
    for rel, path in own_files(src):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target, follow_symlinks=False)


def finish_in_pid1() -> None:
    """In the grandchild (pid 1 of the new namespace): a /proc that shows only the sandbox."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m")


def die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def apply_limits(limits: Limits) -> None:
    mem = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.disk_mb * 2**20,) * 2)
    # No RLIMIT_NPROC: it counts every thread of the grader's uid on the whole machine (a browser
    # alone can exceed it, and JAX starts a thread per core), and root is exempt anyway. The
    # supervisor counts the processes of the sandbox's own pid namespace instead.


# Settings that change how JAX, XLA, CUDA and the BLAS run (not who runs them) pass through.
CONFIG_PREFIXES = ("JAX_", "XLA_", "TF_CPP_", "CUDA_", "NVIDIA_", "OPENBLAS_", "OMP_", "MKL_")
NOT_PASSED = {"JAX_COMPILATION_CACHE_DIR"}  # the sandbox gets the grader's cache or none


def environment() -> dict[str, str]:
    """The environment student code sees: nothing of the grader's but how numerical code runs."""
    env = {"HOME": "/work", "TMPDIR": "/tmp", "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
           "PYTHONDONTWRITEBYTECODE": "1"}
    for key, value in os.environ.items():
        if key.startswith(CONFIG_PREFIXES) and key not in NOT_PASSED or key == "LD_LIBRARY_PATH":
            env.setdefault(key, value)
    return env


def namespaces_work() -> tuple[bool, str]:
    """Can this machine give a child user+mount+net+pid namespaces? (checked in a throwaway child)"""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="sandbox-probe-"))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            enter(root, None, Limits())
            inner = os.fork()
            if inner == 0:
                finish_in_pid1()
                ok = not os.path.exists(str(root)) or os.getpid() == 1
                os._exit(0 if ok else 3)
            _, status = os.waitpid(inner, 0)
            os.write(w, b"ok" if os.waitstatus_to_exitcode(status) == 0 else b"pid namespace did not work")
        except Exception as exc:  # noqa: BLE001 -- any failure in the probe child means: namespaces do not work
            os.write(w, str(exc).encode()[:500])
        os._exit(0)
    os.close(w)
    message = b""
    while chunk := os.read(r, 1024):
        message += chunk
    os.close(r)
    os.waitpid(pid, 0)
    shutil.rmtree(root, ignore_errors=True)
    text = message.decode(errors="replace") or "the probe process died"
    return text == "ok", text
