"""The config file's checks: a walk over PyYAML's node tree, which knows each value's line.

Plain functions and no pydantic, because the config loader runs before the first screen
paints. Every failure is a :class:`ConfigError` whose message is one line,
``<path> line <N>: <dotted.key>: <what is wrong>``, fit to print as is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import yaml

from stratus_tui.keys import KEY_IDS

STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
NULL = "tag:yaml.org,2002:null"

# Keys that would put a secret in the file, wherever they appear (compared lower-cased).
SECRET_KEYS = frozenset(
    {"password", "passwd", "token", "secret", "client_secret", "api_key"}
    | {"access_token", "refresh_token"}
)
NO_SECRETS = (
    "passwords and tokens never go in the config file: the TUI asks for the password at "
    "login, and scripts read it from the STRATUS_PASSWORD environment variable"
)

# CSS names Textual's Color.parse knows; the bright ANSI names map to fixed colours (the
# Windows Terminal "Campbell" palette) so the label looks the same in every terminal.
COLORS = {
    name: name
    for name in (
        *("red", "green", "blue", "yellow", "magenta", "cyan", "orange", "purple"),
        *("white", "black", "grey", "gray", "pink", "brown"),
    )
}
COLORS |= {
    "bright_black": "#767676",
    "bright_red": "#e74856",
    "bright_green": "#16c60c",
    "bright_yellow": "#f9f1a5",
    "bright_blue": "#3b78ff",
    "bright_magenta": "#b4009e",
    "bright_cyan": "#61d6d6",
    "bright_white": "#f2f2f2",
}
HEX_COLOR = re.compile(r"#(?:[0-9a-f]{3}){1,2}")

# Textual's key names: named keys, f1..f24, and what Textual calls each ASCII punctuation
# character (textual.keys._character_to_key). A lone character is fine too.
_KEY_WORDS = (
    {"escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end"}
    | {"pageup", "pagedown", "up", "down", "left", "right"}
    | {f"f{number}" for number in range(1, 25)}
    | {
        "ampersand apostrophe asterisk at backslash circumflex_accent colon comma dollar_sign",
        "equals_sign exclamation_mark full_stop grave_accent greater_than_sign",
        "left_curly_bracket left_parenthesis left_square_bracket less_than_sign minus",
        "number_sign percent_sign plus question_mark quotation_mark right_curly_bracket",
        "right_parenthesis right_square_bracket semicolon slash tilde underscore vertical_line",
    }
)
KEY_NAMES = frozenset(word for item in _KEY_WORDS for word in item.split())
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")

YAML_HINTS = {  # clue in the parser's problem -> what probably went wrong
    "tab character": "indent with spaces, not tabs",
    "mapping values are not allowed": "a missing space after ':', or text that needs quotes",
    "could not find expected ':'": "a missing ':' after a key",
    "but found another document": "one document per file: remove the '---'",
    "found undefined alias": "text starting with '*' needs quotes",
}

PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ConfigError(Exception):
    """One line saying what is wrong and where (file and line), fit to print as is."""


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """`` (did you mean 'x'?)`` when one choice is close to ``word``, else ``""``."""
    import difflib  # only on the error path

    lowered = {choice.lower(): choice for choice in choices}
    if word.lower() in lowered:
        return f" (did you mean '{lowered[word.lower()]}'?)"
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def yaml_error(path: Path, text: str, error: yaml.YAMLError) -> ConfigError:
    """A parser error as one line: where, and the parser's problem with a hint."""
    hint = ""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}"
        problem = error.problem or "cannot parse this"
        lines = text.splitlines()
        if mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
            hint = "a tab character: indent with spaces, not tabs"  # libyaml does not say
    elif isinstance(error, yaml.reader.ReaderError):
        where = f"line {text.count(chr(10), 0, error.position) + 1}"
        character = error.character
        shown = repr(chr(character)) if isinstance(character, int) else repr(character)
        problem = f"character {shown}: {error.reason}"
    else:
        where, problem = "line 1", str(error).splitlines()[0]
    hint = hint or next((hint for clue, hint in YAML_HINTS.items() if clue in problem), "")
    return ConfigError(f"{path} {where}: invalid YAML: {problem}" + (f" ({hint})" if hint else ""))


class Checker:
    """Checks nodes of one file; ``fail`` raises, ``warn`` collects."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []

    def fail(self, node: yaml.Node, key: str, message: str) -> NoReturn:
        raise ConfigError(f"{self.path} line {line_of(node)}: {key}: {message}")

    def warn(self, node: yaml.Node, key: str, message: str) -> None:
        self.warnings.append(f"{self.path} line {line_of(node)}: {key}: {message}")

    def mapping(
        self,
        node: yaml.Node,
        key: str,
        allowed: tuple[str, ...] | frozenset[str] | None,
        *,
        secrets: bool = False,
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping node by key text, refusing duplicates and unknown keys.

        ``allowed`` None accepts any key (profile names); ``secrets`` refuses password keys.
        """
        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"must be a mapping (name: value), not {kind(node)}")
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, key, "keys must be plain names, not lists or mappings")
            name = str(key_node.value)
            dotted = f"{key}.{name}" if key else name
            if name in entries:
                first = line_of(entries[name][0])
                self.fail(key_node, dotted, f"duplicate key (first at line {first})")
            if secrets and name.lower() in SECRET_KEYS:
                self.fail(key_node, dotted, NO_SECRETS)
            if allowed is not None and name not in allowed:
                hint = did_you_mean(name, tuple(allowed))
                if not hint:
                    hint = f" (allowed: {', '.join(sorted(allowed))})"
                self.fail(key_node, dotted, f"unknown key{hint}")
            entries[name] = (key_node, value_node)
        return entries

    def text(self, node: yaml.Node, key: str) -> str | None:
        """A non-empty string, or None for an empty value (``key:`` or ``key: ~``)."""
        if is_null(node):
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR:
            self.fail(node, key, f"must be text, not {kind(node)} (put it in quotes)")
        value = str(node.value).strip()
        if not value:
            self.fail(node, key, "must not be empty")
        if any(not char.isprintable() for char in value):
            self.fail(node, key, "must not contain control characters")
        return value

    def boolean(self, node: yaml.Node, key: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            self.fail(node, key, f"must be true or false (without quotes), not {kind(node)}")
        return str(node.value).lower() in {"true", "yes", "on"}

    def integer(self, node: yaml.Node, key: str, low: int, high: int, unit: str) -> int:
        wrong = f"must be a whole number of {unit} from {low} to {high}"
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            self.fail(node, key, f"{wrong}, not {kind(node)}")
        try:
            value = int(str(node.value).replace("_", ""), 0)
        except ValueError:
            self.fail(node, key, wrong)
        if not low <= value <= high:
            self.fail(node, key, f"{wrong}, not {value}")
        return value

    def url(self, node: yaml.Node, key: str) -> str:
        """scheme://host[:port][/path] without a trailing slash; warns about plain http.

        The text itself is never echoed: it may hold a password (``https://u:pw@host``).
        """
        raw = self.text(node, key)
        if raw is None:
            self.fail(node, key, "url is required")
        if any(char.isspace() for char in raw):
            self.fail(node, key, "must not contain spaces")
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError:
            self.fail(node, key, "is not a valid URL (check the host and port)")
        scheme = parts.scheme.lower()
        if scheme not in {"http", "https"}:
            hint = (
                f"not '{scheme}:'"
                if scheme and parts.netloc
                else "e.g. https://stratus.example.com"
            )
            self.fail(node, key, f"must start with https:// (or http://), {hint}")
        if "@" in parts.netloc:
            self.fail(node, key, f"must not contain a user name or password; {NO_SECRETS}")
        host = parts.hostname
        if not host:
            self.fail(node, key, "has no host name")
        if parts.query or parts.fragment:
            self.fail(node, key, "must not have a query (?...) or fragment (#...)")
        netloc = f"[{host}]" if ":" in host else host
        if port is not None:
            netloc += f":{port}"
        if scheme == "http" and not is_loopback(host):
            self.warn(
                node,
                key,
                f"plain http to {host}: the password would travel unencrypted (use https)",
            )
        return f"{scheme}://{netloc}{parts.path.rstrip('/')}"

    def color(self, node: yaml.Node, key: str) -> str | None:
        value = self.text(node, key)
        if value is None:
            return None
        lowered = value.lower().replace("-", "_")
        if lowered in COLORS:
            return COLORS[lowered]
        if HEX_COLOR.fullmatch(lowered):
            return lowered
        hint = did_you_mean(lowered, tuple(COLORS))
        if not hint:
            hint = f" (use #rgb, #rrggbb or one of {', '.join(COLORS)})"
        self.fail(node, key, f"unknown colour '{value}'{hint}")

    def existing_file(self, node: yaml.Node, key: str, relative_to: Path) -> Path | None:
        value = self.text(node, key)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = relative_to / path
        if not path.exists():
            self.fail(node, key, f"{path} does not exist")
        if not path.is_file():
            self.fail(node, key, f"{path} is not a file")
        if not os.access(path, os.R_OK):
            self.fail(node, key, f"{path} is not readable")
        return path

    def profile_name(self, node: yaml.Node, key: str, name: str) -> None:
        if not name:
            self.fail(node, key, "a profile name must not be empty")
        if not PROFILE_NAME.fullmatch(name):
            self.fail(
                node,
                key,
                "a profile name is 1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )

    def keymap(self, node: yaml.Node) -> dict[str, str]:
        keymap: dict[str, str] = {}
        for binding, (key_node, value_node) in self.mapping(node, "keymap", KEY_IDS).items():
            dotted = f"keymap.{binding}"
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag == INT:
                keys = str(value_node.value)  # `page_home: 1` means the key "1"
            else:
                keys = self.text(value_node, dotted) or ""
            if not keys:
                self.fail(key_node, dotted, "needs one or more keys, e.g. 'f5' or 'r,f5'")
            parts = [part.strip() for part in keys.split(",")]
            for part in parts:
                problem = key_problem(part)
                if problem:
                    self.fail(value_node, dotted, problem)
            keymap[binding] = ",".join(parts)
        return keymap


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a Textual key name (``ctrl+x``, ``f5``, ``slash``, ``R``), or None."""
    if not key:
        return "an empty key in the list (two commas, or one at an end)"
    if len(key) == 1:
        return None if key.isprintable() and not key.isspace() else f"{key!r} is not a key"
    if any(char.isspace() for char in key):
        return f"'{key}' has a space inside; write keys like 'ctrl+r', alternatives as 'r,f5'"
    *modifiers, name = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            hint = did_you_mean(modifier, MODIFIERS) or f" (modifiers: {', '.join(MODIFIERS)})"
            return f"'{key}': unknown modifier '{modifier}'{hint}"
    if len(set(modifiers)) != len(modifiers):
        return f"'{key}' repeats a modifier"
    if len(name) == 1 and modifiers:
        if name.isascii() and name.isalnum():
            return None if name == name.lower() else f"'{key}': write the letter in lower case"
        return f"'{key}': after a modifier write a name for '{name}', e.g. 'ctrl+slash'"
    if len(name) == 1 or name in KEY_NAMES:
        return None
    hint = did_you_mean(name, KEY_NAMES)
    return f"'{key}': unknown key name '{name}'{hint}"


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL


def kind(node: yaml.Node) -> str:
    """What the user wrote, in words, for "must be X, not Y" messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    names = {STR: "text", BOOL: "true/false", INT: "a number", NULL: "empty"}
    if node.tag in names:
        return names[node.tag]
    if node.tag == "tag:yaml.org,2002:float":
        return "a decimal number"
    return f"a value tagged {node.tag.rsplit(':', 1)[-1]}"


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only for plain-http URLs

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
