"""Host side: which sandbox layers this kernel allows, found by trying each one.

The node runs ``probe()`` once at start.  Each layer is set up for real in a
throwaway child process (namespaces, a /proc mount inside them, Landlock,
seccomp, no-new-privileges, dropping capabilities), because a kernel may
advertise a feature and still refuse it (user namespaces disabled by
sysctl, a container that masks /proc, a seccomp policy of its own).  The
node refuses to start when a required layer is missing unless started with
``--allow-degraded-sandbox``; cgroups are optional.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ramparts.sandbox import cgroups

REQUIRED = (
    "user_namespace",
    "pid_namespace",
    "mount_namespace",
    "network_namespace",
    "seccomp",
    "landlock",
    "no_new_privs",
    "limits",
)
OPTIONAL = ("ipc_namespace", "uts_namespace", "cgroup_namespace", "cgroups", "per_function_uid")


@dataclass
class Layer:
    name: str
    available: bool
    detail: str = ""
    required: bool = False


@dataclass
class SandboxReport:
    layers: list[Layer] = field(default_factory=list)
    degraded_allowed: bool = False

    def missing(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.required and not layer.available]

    @property
    def complete(self) -> bool:
        return not self.missing()

    def get(self, name: str) -> Layer | None:
        return next((x for x in self.layers if x.name == name), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "complete": self.complete,
            "degraded": not self.complete,
            "degraded_allowed": self.degraded_allowed,
            "layers": [asdict(x) for x in self.layers],
        }


# The child: put the package (and pyseccomp) on the path, then run the probe.
_BOOT = (
    "import sys; sys.path[:0] = sys.argv[1].split(':'); "
    "from ramparts.sandbox._probe import main; main(sys.argv[2])"
)


def probe(*, node_id: str = "probe", uid: int | None = None) -> SandboxReport:
    """Try every layer in a throwaway child process; cgroups are checked from here."""
    paths = [str(Path(__file__).resolve().parent.parent.parent)]
    seccomp_dir = _pyseccomp_dir()
    if seccomp_dir:
        paths.append(seccomp_dir)
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", _BOOT, ":".join(paths), "" if uid is None else str(uid)],
            capture_output=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin"},
            cwd="/",
            check=False,
        )
        found = json.loads(proc.stdout or b"{}")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        found = {"layers": [False, f"the probe could not run: {type(exc).__name__}"]}
    report = SandboxReport()
    for name in REQUIRED + OPTIONAL:
        if name == "cgroups":
            controller = cgroups.open_controller(f"{node_id}-probe")
            if controller is not None:
                controller.close()
                report.layers.append(Layer(name, True, controller.kind))
            else:
                report.layers.append(
                    Layer(
                        name,
                        False,
                        "no writable cgroup hierarchy: RLIMIT_DATA, "
                        "RLIMIT_NPROC and the RSS watchdog stand in",
                    )
                )
            continue
        ok, detail = found.get(name, [False, found.get("layers", [False, "not probed"])[1]])
        report.layers.append(Layer(name, bool(ok), str(detail), required=name in REQUIRED))
    return report


def _pyseccomp_dir() -> str | None:
    try:
        import pyseccomp
    except ImportError:
        return None
    return str(Path(pyseccomp.__file__).resolve().parent)
