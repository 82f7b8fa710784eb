"""Can the system route calls? The one evaluation behind the dashboard and ``status``.

DOMAIN.md: PS, ICH, AC, AM and CIC must each have a running instance somewhere, or no call
can be routed. Anything else stopped or degraded, or a backend active/passive pair with no
active member or more than one, leaves routing possible but needs attention.

Plain data in, plain data out: no IO, no UI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

MINIMUM = ("PS", "ICH", "AC", "AM", "CIC")
# Frontend components run active on every machine of the pool; they form no pairs.
ACTIVE_ACTIVE = frozenset({"FE", "SMD"})


class Level(IntEnum):
    """Also the exit code of ``stratus-tui status`` (3 is "could not tell")."""

    OK = 0
    DEGRADED = 1
    DOWN = 2


class ComponentLike(Protocol):
    @property
    def abbreviation(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def state(self) -> str: ...


class InstanceLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def components(self) -> Sequence[ComponentLike]: ...


@dataclass(frozen=True)
class Problem:
    """One thing to look at: where, which component, and what is wrong, in words."""

    instance: str  # "" when it concerns the whole system
    component: str
    what: str


@dataclass(frozen=True)
class Health:
    level: Level
    missing: tuple[str, ...]  # minimum components with no running instance anywhere
    problems: tuple[Problem, ...]  # everything else that is not as it should be
    running: int
    total: int

    @property
    def summary(self) -> str:
        if self.missing:
            # Fits 80 columns even with two missing: it heads `status`'s output.
            missing, needed = ", ".join(self.missing), ", ".join(MINIMUM)
            return f"Calls cannot be routed: no running {missing} (needs {needed})"
        if self.problems:
            count = len(self.problems)
            problems = "1 problem needs" if count == 1 else f"{count} problems need"
            return f"Calls can be routed, but {problems} attention"
        return "All components are running"


def evaluate(instances: Iterable[InstanceLike]) -> Health:
    instances = list(instances)
    problems: list[Problem] = []
    running_anywhere: set[str] = set()
    pairs: dict[str, list[tuple[str, ComponentLike]]] = defaultdict(list)
    running = total = 0
    for instance in instances:
        for part in instance.components:
            total += 1
            if part.state == "running":
                running += 1
                running_anywhere.add(part.abbreviation)
            else:
                problems.append(Problem(instance.name, part.abbreviation, part.state))
            if instance.role == "backend" and part.abbreviation not in ACTIVE_ACTIVE:
                pairs[part.abbreviation].append((instance.name, part))
    for abbreviation, members in sorted(pairs.items()):
        if len(members) < 2:
            continue
        active = [name for name, part in members if part.mode == "active"]
        if not active:
            problems.append(Problem("", abbreviation, "no active member in its pair"))
        elif len(active) > 1:
            problems.append(
                Problem("", abbreviation, f"{len(active)} active members: {', '.join(active)}")
            )
    missing = tuple(name for name in MINIMUM if name not in running_anywhere)
    level = Level.DOWN if missing else Level.DEGRADED if problems else Level.OK
    return Health(level, missing, tuple(problems), running, total)
