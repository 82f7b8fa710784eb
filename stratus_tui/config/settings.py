"""The user's configuration: Stratus servers as profiles, theme, refresh, keymap.

``$XDG_CONFIG_HOME/stratus-tui/config.yaml`` (``paths.config_file()``), validated here with
plain code: this module is imported before the first screen paints, so no pydantic. Every
problem is a :class:`ConfigError` with one line naming the file, the line and the key.
No secrets in the file (SECURITY.md B), and a file that others can write is refused, as
OpenSSH does (SECURITY.md D).
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from stratus_tui.config.validate import Checker, ConfigError, did_you_mean, yaml_error

__all__ = [
    "EXAMPLE_CONFIG",
    "ConfigError",
    "Profile",
    "Settings",
    "choose_profile",
    "describe_first_run",
    "load_settings",
]

Auth = Literal["password", "o365"]
AUTH_METHODS: tuple[Auth, ...] = ("password", "o365")
TokenCacheKind = Literal["memory", "keyring", "file"]  # where O365 tokens are kept
TOKEN_CACHE_KINDS: tuple[TokenCacheKind, ...] = ("memory", "keyring", "file")
REFRESH_RANGE = (5, 3600)
MAX_SIZE = 1024 * 1024  # a config file is a few hundred bytes; anything this big is a mistake

TOP_KEYS = ("default_profile", "theme", "refresh_seconds", "profiles", "keymap")
PROFILE_KEYS = (
    "url",
    "username",
    "auth",
    "o365_cache",
    "ca_bundle",
    "read_only",
    "protected",
    "label_color",
)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Profile:
    name: str
    url: str  # normalised: scheme+host[:port][/path], no trailing slash
    username: str | None = None
    auth: Auth = "password"
    o365_cache: TokenCacheKind = "memory"  # O365 only: "keyring"/"file" survive restarts
    ca_bundle: Path | None = None
    read_only: bool = False
    protected: bool = False
    label_color: str | None = None  # a colour name or #rgb / #rrggbb Textual can parse


@dataclass(frozen=True)
class Settings:
    profiles: dict[str, Profile]
    default_profile: str | None = None
    theme: str | None = None
    refresh_seconds: int = 30
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the file read, None when there was none
    warnings: tuple[str, ...] = ()  # non-fatal, e.g. plain http to a non-loopback host


def load_settings(path: Path | None = None) -> Settings:
    """Read and check the config file; no file at all is a first run (no profiles)."""
    if path is None:
        from stratus_tui.config import paths

        path = paths.config_file()
    text = _read_config(path)
    if text is None:
        return Settings(profiles={}, path=None)
    if _too_deep(text):
        raise ConfigError(f"{path}: invalid YAML: lists or mappings nested too deeply")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise yaml_error(path, text, error) from None
    if root is None:  # empty, or only comments
        return Settings(profiles={}, path=path)
    return _settings(root, path)


def choose_profile(settings: Settings, name: str | None) -> Profile:
    """``--profile NAME``, else ``default_profile``, else the only profile."""
    names = sorted(settings.profiles)
    listing = f"profiles: {', '.join(names)}"
    if not names:
        where = settings.path
        if where is None:
            from stratus_tui.config import paths

            where = paths.config_file()
        wanted = f"no profile named '{name}': " if name else ""
        raise ConfigError(
            f"{wanted}no profiles configured yet: add one to {where} (or try `stratus-tui demo`)"
        )
    if name is None:
        name = settings.default_profile
        if name is None:
            if len(names) == 1:
                return settings.profiles[names[0]]
            raise ConfigError(
                f"several profiles and no default_profile: pass --profile NAME ({listing})"
            )
    if name in settings.profiles:
        return settings.profiles[name]
    raise ConfigError(f"no profile named '{name}'{did_you_mean(name, names)}; {listing}")


EXAMPLE_CONFIG = """\
# stratus-tui configuration: one profile per Stratus server.
default_profile: prod
profiles:
  prod:
    url: https://stratus.example.com:4444
    username: admin@example.com    # optional: prefilled on the login screen
    # auth: o365                   # sign in with Microsoft 365 instead of a password
    # o365_cache: keyring         # O365: stay signed in across starts (OS keyring)
    # read_only: true              # refuse every change before it is sent
    # label_color: red             # shown in the header, so production stands out
"""


def describe_first_run(path: Path) -> str:
    """What to tell a user who has no config file yet."""
    example = "".join(
        f"    {line}" if line.strip() else line for line in EXAMPLE_CONFIG.splitlines(True)
    )
    return (
        f"No Stratus server is configured yet. stratus-tui reads its profiles from\n"
        f"\n    {path}\n\n"
        f"Create that file (writable only by you) with a profile for each server, e.g.:\n\n"
        f"{example}\n"
        f"Passwords never go in this file: the TUI asks for yours when you log in.\n"
        f"Then run `stratus-tui` (or `stratus-tui --profile NAME`).\n\n"
        f"To look around first, `stratus-tui demo` starts a built-in demo server with\n"
        f"sample data and opens the TUI on it: no set-up needed.\n"
    )


def _read_config(path: Path) -> str | None:
    """The file's text, None when it does not exist; refuses files others could change."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)  # O_NONBLOCK: a FIFO must not hang the start-up
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a config file") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the config file (permission denied)") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(f"{path}: cannot read the config file ({reason})") from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path} is a folder, not a config file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path} is not a regular file")
        if os.name == "posix":
            _check_permissions(path, info)
        data = b""
        while len(data) <= MAX_SIZE and (chunk := os.read(descriptor, MAX_SIZE + 1)):
            data += chunk
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(f"{path}: cannot read the config file ({reason})") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_SIZE:
        raise ConfigError(f"{path} is larger than 1 MiB: is it really the config file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{path} line {line}: the file is not UTF-8 text") from None


def _too_deep(text: str, limit: int = 1000) -> bool:
    """Brackets nested beyond ``limit`` (quotes ignored: an over-estimate, fine for a config).

    libyaml recurses on the C stack and crashes the process at about 100,000 levels.
    """
    if text.count("[") + text.count("{") < limit:
        return False
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _check_permissions(path: Path, info: os.stat_result) -> None:
    """Like OpenSSH's StrictModes: only its owner (or root) may be able to change the file."""
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise ConfigError(
            f"{path} is writable by other users (mode {mode & 0o777:04o}): "
            f"run chmod go-w {_quote(path)}"
        )
    if info.st_uid not in {os.getuid(), 0}:
        raise ConfigError(
            f"{path} belongs to another user (uid {info.st_uid}): use a config file of your own"
        )
    folders = [path.parent]
    with contextlib.suppress(OSError, RuntimeError):
        folders.append(path.resolve().parent)  # a symlinked file: its real folder too
    for folder in dict.fromkeys(folders):
        try:
            folder_mode = stat.S_IMODE(folder.stat().st_mode)
        except OSError:
            continue
        if folder_mode & 0o022 and not folder_mode & stat.S_ISVTX:
            raise ConfigError(
                f"{folder} is writable by other users (mode {folder_mode & 0o777:04o}): "
                f"run chmod go-w {_quote(folder)}"
            )


def _quote(path: Path) -> str:
    import shlex  # only on the error path

    return shlex.quote(str(path))


def _settings(root: yaml.Node, path: Path) -> Settings:
    check = Checker(path)
    if not isinstance(root, yaml.MappingNode):
        check.fail(root, "top level", "the file must be a mapping of settings (key: value)")
    top = check.mapping(root, "", TOP_KEYS, secrets=True)
    profiles: dict[str, Profile] = {}
    default_profile = theme = None
    refresh_seconds = 30
    keymap: dict[str, str] = {}
    for key, (_, node) in top.items():  # in the file's order, so the first error is reported
        if key == "profiles":
            for name, (name_node, profile_node) in check.mapping(node, key, None).items():
                check.profile_name(name_node, f"profiles.{name}", name)
                profiles[name] = _profile(check, name, name_node, profile_node)
        elif key == "default_profile":
            default_profile = check.text(node, key)
        elif key == "theme":
            theme = check.text(node, key)
        elif key == "refresh_seconds":
            refresh_seconds = check.integer(node, key, *REFRESH_RANGE, "seconds")
        else:
            keymap = check.keymap(node)
    if default_profile is not None and default_profile not in profiles:
        names = sorted(profiles)
        listing = f"profiles: {', '.join(names)}" if names else "there are no profiles"
        hint = did_you_mean(default_profile, names)
        check.fail(
            top["default_profile"][1],
            "default_profile",
            f"no profile named '{default_profile}'{hint}; {listing}",
        )
    return Settings(
        profiles=profiles,
        default_profile=default_profile,
        theme=theme,
        refresh_seconds=refresh_seconds,
        keymap=keymap,
        path=path,
        warnings=tuple(check.warnings),
    )


def _profile(check: Checker, name: str, key_node: yaml.Node, node: yaml.Node) -> Profile:
    where = f"profiles.{name}"
    fields = {
        key: (value_node, f"{where}.{key}")
        for key, (_, value_node) in check.mapping(node, where, PROFILE_KEYS, secrets=True).items()
    }
    if "url" not in fields:
        check.fail(key_node, where, "url is required")
    auth: Auth = "password"
    if "auth" in fields and (text := check.text(*fields["auth"])) is not None:
        chosen = next((method for method in AUTH_METHODS if method == text.lower()), None)
        if chosen is None:
            hint = did_you_mean(text, AUTH_METHODS)
            check.fail(*fields["auth"], f"must be password or o365, not '{text}'{hint}")
        auth = chosen
    o365_cache: TokenCacheKind = "memory"
    if "o365_cache" in fields and (text := check.text(*fields["o365_cache"])) is not None:
        kind = next((k for k in TOKEN_CACHE_KINDS if k == text.lower()), None)
        if kind is None:
            hint = did_you_mean(text, TOKEN_CACHE_KINDS)
            check.fail(
                *fields["o365_cache"], f"must be memory, keyring or file, not '{text}'{hint}"
            )
        o365_cache = kind
        if kind == "file":
            check.warn(
                *fields["o365_cache"],
                "file keeps the O365 refresh token in plain text (a file only you can read); "
                "keyring keeps it in the OS keyring instead",
            )
    ca_bundle = None
    if "ca_bundle" in fields:  # a relative path is relative to the config file's folder
        ca_bundle = check.existing_file(*fields["ca_bundle"], check.path.parent)
    return Profile(
        name=name,
        url=check.url(*fields["url"]),
        username=check.text(*fields["username"]) if "username" in fields else None,
        auth=auth,
        o365_cache=o365_cache,
        ca_bundle=ca_bundle,
        read_only=check.boolean(*fields["read_only"]) if "read_only" in fields else False,
        protected=check.boolean(*fields["protected"]) if "protected" in fields else False,
        label_color=check.color(*fields["label_color"]) if "label_color" in fields else None,
    )
