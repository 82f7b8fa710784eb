"""Start-up: spawn -> login screen visible, as a ratio to a bare Textual app.

One command: ``python bench/startup.py [--runs 7]``. Both programs run in a pseudo-terminal
(120x40) under the shared ``ttff.py`` harness, interleaved A B A B, so a noisy machine
affects both alike; the figure that matters is the ratio of the medians (target <= 1.25).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT.parent / "shared" / "tools"
TARGET = 1.25


def load_ttff():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ttff", TOOLS / "ttff.py")
    if spec is None or spec.loader is None:
        sys.exit(f"the ttff.py harness is missing from {TOOLS}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ttff"] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ttff = load_ttff()
    # pip compiles an installed package to bytecode; an editable checkout on a machine with
    # PYTHONDONTWRITEBYTECODE=1 would recompile every module at each start instead, which
    # is not what users run. Compile once, as an install does.
    compileall.compile_dir(ROOT / "stratus_tui", quiet=1)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        # No user name: the login screen then sends nothing to the (absent) server.
        config.write_text("profiles:\n  bench:\n    url: http://127.0.0.1:9\n")
        config.chmod(0o600)
        env = {"STRATUS_TUI_CONFIG": str(config), "XDG_STATE_HOME": folder}
        bare = [sys.executable, str(TOOLS / "bare_textual_app.py")]
        ours = [sys.executable, "-m", "stratus_tui", "--profile", "bench"]
        programs = {
            "bare Textual app": (bare, ["READY-MARKER"]),
            "stratus-tui login": (ours, ["Password", "quit"]),  # the field and the key line
        }
        times: dict[str, list[float]] = {name: [] for name in programs}
        cpu: dict[str, list[float]] = {name: [] for name in programs}
        for _ in range(args.runs + 1):  # the first round warms the disk cache
            for name, (command, markers) in programs.items():
                result = ttff.measure_once(command, markers, env=env, cwd=str(ROOT))
                if not result.ok:
                    sys.exit(f"{name}: {result.error}")
                times[name].append(result.t_marker)
                cpu[name].append(result.cpu_at_marker or 0.0)
        for name in programs:
            runs = times[name][1:]
            median, low, high = (statistics.median(runs), min(runs), max(runs))
            print(
                f"{name:<20} median {median * 1000:6.0f} ms  "
                f"(min {low * 1000:.0f}, max {high * 1000:.0f}, {len(runs)} runs)"
            )
        ratio = statistics.median(times["stratus-tui login"][1:]) / statistics.median(
            times["bare Textual app"][1:]
        )
        cpu_ratio = statistics.median(cpu["stratus-tui login"][1:]) / statistics.median(
            cpu["bare Textual app"][1:]
        )
        print(f"CPU seconds at the marker, ratio: {cpu_ratio:.2f}x (steadier on a busy machine)")
        verdict = "meets" if ratio <= TARGET else "MISSES"
        print(f"ratio stratus-tui / bare: {ratio:.2f}x ({verdict} the target of {TARGET}x)")
        return 0


if __name__ == "__main__":
    sys.exit(main())
