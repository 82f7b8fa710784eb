"""The fuzz budget shared by tests/test_fuzz_server.py and tests/test_fuzz_decoding.py.

CI runs a bounded number of examples (the ``fuzz-ci`` Hypothesis profile); a longer run is

    STRATUS_FUZZ=long .venv/bin/pytest tests/test_fuzz_server.py tests/test_fuzz_decoding.py

``STRATUS_FUZZ_EXAMPLES=N`` sets the examples per operation (server) and per answer type
(decoding) for either budget. ``STRATUS_FUZZ_REPORT=FILE`` appends how many cases each
test ran to FILE (one line per test; with ``-n auto`` every worker appends its own).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


def _skip_assert_rewriting(*packages: str) -> None:
    """Keep pytest from rewriting the asserts of ``packages`` when they are imported.

    pytest rewrites every module of a distribution that ships a pytest plugin (hypothesis and
    schemathesis both do), and with PYTHONDONTWRITEBYTECODE (set on this machine and in CI) it
    cannot cache the result: each xdist worker would spend about 3 s of CPU rewriting their
    ~400 modules, whose asserts no test reads. Their imports must come after this: import
    this module first. pytest has no public switch for it; if its hook changes, this does
    nothing and only the time is lost.
    """
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set):
            marked.difference_update(packages)


_skip_assert_rewriting("hypothesis", "schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402 (after the line above)


@dataclass(frozen=True)
class Budget:
    name: str
    server_examples: int  # requests per operation (each sent as a tenant admin and a member)
    decoding_examples: int  # answers per answer type the client decodes


BUDGETS = {
    "ci": Budget("ci", server_examples=5, decoding_examples=10),
    "long": Budget("long", server_examples=300, decoding_examples=1000),
}


def _budget() -> Budget:
    name = os.environ.get("STRATUS_FUZZ", "ci") or "ci"
    if name not in BUDGETS:
        raise ValueError(f"STRATUS_FUZZ must be one of {', '.join(BUDGETS)}, not {name!r}")
    budget = BUDGETS[name]
    examples = os.environ.get("STRATUS_FUZZ_EXAMPLES")
    if examples:
        budget = Budget(name, int(examples), int(examples))
    return budget


BUDGET = _budget()

# No example database (nothing written into the work tree), no deadline (a shared CI machine
# is slow at times), and no "explain" phase (it reruns failing examples many times). CI runs
# the same examples each time (derandomized, like Hypothesis's own CI profile): a red CI is
# then a change, not luck; the long run draws new examples every time.
_COMMON = {
    "deadline": None,
    "database": None,
    "phases": [Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        # One server database per operation, shared by its examples, is what we want.
        HealthCheck.function_scoped_fixture,
    ],
}
for _name, _budget_of in BUDGETS.items():
    settings.register_profile(
        f"fuzz-{_name}",
        max_examples=_budget_of.decoding_examples,
        derandomize=_name == "ci",
        **_COMMON,
    )
PROFILE = settings.get_profile(f"fuzz-{BUDGET.name}")


def examples(count: int) -> settings:
    """The budget's profile with ``count`` examples."""
    return settings(PROFILE, max_examples=count)


class CaseCounter:
    """Cases run per test and what came of them; ``report()`` appends them to the file
    named by ``STRATUS_FUZZ_REPORT``: budget, test id, cases, outcomes (``404:12 200:3``)."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Counter[str]] = {}

    def record(self, test: str, *outcomes: object) -> None:
        counter = self.outcomes.setdefault(test, Counter())
        counter["cases"] += 1
        counter.update(str(outcome) for outcome in outcomes)

    def report(self, test: str) -> None:
        target = os.environ.get("STRATUS_FUZZ_REPORT")
        counter = self.outcomes.get(test)
        if target and counter:
            cases = counter["cases"]
            seen = " ".join(f"{key}:{n}" for key, n in counter.most_common() if key != "cases")
            with Path(target).open("a", encoding="utf-8") as out:
                out.write(f"{BUDGET.name}\t{test}\t{cases}\t{seen}\n")
