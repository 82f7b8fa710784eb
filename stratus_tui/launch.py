"""Start the TUI from the command line: profiles, the first run, and the demo.

Kept apart from ``cli.py`` (argument parsing only) and ``app.py`` (the UI): this is where
configuration problems become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

from stratus_tui.config.settings import (
    ConfigError,
    Profile,
    Settings,
    choose_profile,
    describe_first_run,
    load_settings,
)

CONFIG_EXIT = 2
DEMO_USER = "admin@demo.stratus"


def fail(message: str) -> int:
    print(f"stratus-tui: {message}", file=sys.stderr)
    return CONFIG_EXIT


def check_theme(settings: Settings) -> str | None:
    if not settings.theme:
        return None
    from textual.theme import BUILTIN_THEMES

    if settings.theme in BUILTIN_THEMES:
        return None
    names = ", ".join(sorted(BUILTIN_THEMES))
    return f"{settings.path}: theme: no theme named {settings.theme!r} (themes: {names})"


def run_app(settings: Settings, profile: Profile, **demo: object) -> int:
    from stratus_tui.app import StratusApp

    app = StratusApp(settings, profile, **demo)  # type: ignore[arg-type]
    app.run()
    return app.return_code or 0


def run_tui(profile_name: str | None) -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        return fail(str(error))
    if not settings.profiles and profile_name is None:
        return first_run()
    try:
        profile = choose_profile(settings, profile_name)
    except ConfigError as error:
        return fail(str(error))
    if problem := check_theme(settings):
        return fail(problem)
    return run_app(settings, profile)


def first_run() -> int:
    from stratus_tui.config import paths

    print(describe_first_run(paths.config_file()))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return CONFIG_EXIT
    try:
        answer = input("\nStart the demo now? [Y/n] ").strip().lower()
    except EOFError:
        return CONFIG_EXIT
    if answer in ("", "y", "yes"):
        return run_demo()
    return CONFIG_EXIT


def run_demo() -> int:
    from stratus_tui.demo import DemoServer, DemoServerError
    from stratus_tui.server.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

    try:
        settings = load_settings()  # the user's theme and keys, if any
    except ConfigError as error:
        print(f"stratus-tui: ignoring the config file for the demo: {error}", file=sys.stderr)
        settings = Settings(profiles={})
    print("Starting the Stratus demo server…", file=sys.stderr, flush=True)
    try:
        with DemoServer() as server:
            # The demo's O365 sign-in goes to its own identity provider, over HTTPS with a
            # CA of its own: trusted through the profile's CA bundle, as a corporate CA is.
            profile = Profile(
                name="demo",
                url=server.url,
                username=DEMO_USER,
                label_color="green",
                ca_bundle=server.idp_ca,
            )
            return run_app(
                settings, profile, demo_accounts=DEMO_ACCOUNTS, demo_password=DEMO_PASSWORD
            )
    except DemoServerError as error:
        print(f"stratus-tui demo: {error}", file=sys.stderr)
        return 1
