"""Settings' "Where to start": the product's set-up order and which steps a tenant has done.

Plain data, so the rule is tested without a UI: a step is done when the tenant has at least
one of its records (the hidden System org unit does not count).
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus_tui.records.editing import Reference


@dataclass(frozen=True)
class Step:
    id: str  # the Settings section (or main page) that does it
    title: str
    why: str
    count: int | None  # None: not a set-up step (listed, never "to do")

    @property
    def done(self) -> bool:
        return self.count is None or self.count > 0


# (id, title, why) in the product's recommended order; "services" is the main page.
ORDER = (
    ("org-units", "Organization units", "They scope everything else: roles, reporting"),
    ("duty-profiles", "Duty profiles", "When agents work and what they are responsible for"),
    ("traits", "Traits", "Skills that route a call to the right agent"),
    ("teams", "Teams", "Groups of agents; every service belongs to one"),
    ("services", "Configuring services", "The numbers and addresses customers reach"),
    ("workflows", "Workflows", "What happens to a call before an agent takes it"),
)
MORE = (
    ("responsibilities", "Responsibilities", "Switched on per duty profile"),
    ("o365", "O365 applications", "The O365 sign-in button per mail domain"),
    ("features", "Features", "Live chat with IT support: on or off for the tenant"),
)


def steps(
    reference: Reference | None,
    services: int | None,
    *,
    changes_settings: bool = True,
    features: bool = False,
) -> list[Step]:
    """The checklist, counted from ``reference`` and the number of services.

    Without them (the server could not be asked) the steps are listed uncounted, so each
    section still opens on what the cache has. A team admin (``changes_settings=False``) has
    nothing "to do" here and no O365 applications to see: those are the tenant admins'.
    ``features``: the tenant's switches (live chat), for its own tenant admins only.
    """
    counts: dict[str, int | None] = dict.fromkeys(key for key, _, _ in ORDER)
    if reference is not None and services is not None and changes_settings:
        counts = {
            "org-units": sum(not unit.is_system for unit in reference.org_units),
            "duty-profiles": len(reference.duty_profiles),
            "traits": len(reference.traits),
            "teams": len(reference.teams),
            "services": services,
            "workflows": len(reference.workflows),
        }
    found = [Step(key, title, why, counts[key]) for key, title, why in ORDER]
    hidden = set() if changes_settings else {"o365", "features"}
    if not features:
        hidden.add("features")
    more = tuple(step for step in MORE if step[0] not in hidden)
    return found + [Step(key, title, why, None) for key, title, why in more]


def first_to_do(found: list[Step]) -> Step | None:
    return next((step for step in found if not step.done), None)
