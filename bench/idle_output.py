"""Idle output: bytes the dashboard writes to the terminal per minute with no input.

One command: ``python bench/idle_output.py [--seconds 60]``. It starts the reference server
on loopback, runs stratus-tui in a pseudo-terminal (120x40), signs in, waits for the Home
dashboard, then counts what reaches the terminal while nobody touches it. The automatic
refresh runs meanwhile (every 30 s): a refresh that changes nothing should cost a line.
Baseline in the same run: the bare Textual app (Header + Static + Footer). Target <= 1 KB/min.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = ROOT.parent / "shared" / "tools" / "bare_textual_app.py"
TARGET_PER_MINUTE = 1024


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.output = bytearray()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def wait_for(self, text: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline or self.process.poll() is not None:
                sys.exit(f"{text!r} never appeared")
            time.sleep(0.05)

    def idle_bytes(self, seconds: float) -> int:
        time.sleep(2)  # let the last paint finish
        start = len(self.output)
        time.sleep(seconds)
        return len(self.output) - start

    def close(self) -> None:
        os.write(self.master, b"\x11")  # ctrl+q
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self.master)


def start_server(folder: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--calls", "0"]
    server = subprocess.Popen(
        [*command, "--db", str(folder / "server.sqlite3")], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    for line in server.stdout:
        if found := re.search(r"listening on (http://\S+)", line):
            return server, found.group(1)
    sys.exit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, url = start_server(folder)
        try:
            config = folder / "config.yaml"
            config.write_text(
                f"profiles:\n  bench:\n    url: {url}\n    username: admin@demo.stratus\n"
            )
            config.chmod(0o600)
            ours_env = {
                **env,
                "STRATUS_TUI_CONFIG": str(config),
                "XDG_STATE_HOME": name,
                "XDG_CACHE_HOME": name,  # a cache of its own, not the user's
            }
            tui = Terminal([sys.executable, "-m", "stratus_tui", "--profile", "bench"], ours_env)
            tui.wait_for(b"Sign in to Stratus")
            time.sleep(1.5)
            os.write(tui.master, b"demo\r")
            tui.wait_for(b"Backend instances")
            ours = tui.idle_bytes(args.seconds)
            tui.close()
            bare = Terminal([sys.executable, str(BARE)], env)
            bare.wait_for(b"READY-MARKER")
            baseline = bare.idle_bytes(args.seconds)
            bare.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
    per_minute = ours * 60 / args.seconds
    print(f"bare Textual app idle:     {baseline:6d} B in {args.seconds:.0f} s")
    refreshes = int(args.seconds // 30)
    print(
        f"stratus-tui dashboard idle: {ours:6d} B in {args.seconds:.0f} s "
        f"({per_minute:.0f} B per minute, with {refreshes} automatic refreshes)"
    )
    verdict = "meets" if per_minute <= TARGET_PER_MINUTE else "MISSES"
    print(f"{verdict} the target of {TARGET_PER_MINUTE} B per minute")
    return 0


if __name__ == "__main__":
    sys.exit(main())
