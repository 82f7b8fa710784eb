"""The config file: profiles, validation messages (one line, file and line), permissions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stratus_tui.config import settings as settings_module
from stratus_tui.config.settings import (
    EXAMPLE_CONFIG,
    ConfigError,
    Profile,
    Settings,
    choose_profile,
    describe_first_run,
    load_settings,
)
from stratus_tui.config.validate import COLORS, KEY_NAMES
from stratus_tui.keys import KEY_IDS

FULL = """\
default_profile: prod
theme: textual-dark
refresh_seconds: 60
profiles:
  prod:
    url: https://Stratus.Example.com:4444/
    username: admin@example.com
    auth: o365
    ca_bundle: corp-ca.pem
    read_only: true
    protected: yes
    label_color: red
  lab:
    url: https://lab.example.com:4444
keymap:
  refresh: f5, ctrl+r
  page_home: 1
"""


def write(folder: Path, text: str, *, name: str = "config.yaml", mode: int = 0o600) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    path.chmod(mode)
    return path


def error_for(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def load_text(tmp_path: Path, text: str) -> Settings:
    return load_settings(write(tmp_path, text))


def error_text(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = write(tmp_path, text)
    return path, error_for(path)


# -- a valid file ------------------------------------------------------------------------


def test_full_file_loads_and_normalises(tmp_path: Path) -> None:
    (tmp_path / "corp-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path = write(tmp_path, FULL)

    loaded = load_settings(path)

    assert loaded.path == path
    assert loaded.default_profile == "prod"
    assert loaded.theme == "textual-dark"
    assert loaded.refresh_seconds == 60
    assert loaded.warnings == ()
    assert loaded.keymap == {"refresh": "f5,ctrl+r", "page_home": "1"}
    assert loaded.profiles["prod"] == Profile(
        name="prod",
        url="https://stratus.example.com:4444",
        username="admin@example.com",
        auth="o365",
        ca_bundle=tmp_path / "corp-ca.pem",  # relative to the config file's folder
        read_only=True,
        protected=True,
        label_color="red",
    )
    assert loaded.profiles["lab"] == Profile(name="lab", url="https://lab.example.com:4444")
    assert list(loaded.profiles) == ["prod", "lab"]


def test_defaults_for_a_minimal_file(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, "profiles:\n  lab:\n    url: https://lab.example.com\n")
    assert loaded == Settings(
        profiles={"lab": Profile(name="lab", url="https://lab.example.com")}, path=loaded.path
    )
    assert loaded.refresh_seconds == 30
    assert loaded.theme is None and loaded.default_profile is None and loaded.keymap == {}


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("https://example.com/", "https://example.com"),
        ("HTTPS://EXAMPLE.com:4444", "https://example.com:4444"),
        ("https://example.com/stratus///", "https://example.com/stratus"),
        ("https://[::1]:4444/", "https://[::1]:4444"),
        ("http://localhost:4444", "http://localhost:4444"),
    ],
)
def test_url_is_normalised(tmp_path: Path, written: str, normalised: str) -> None:
    loaded = load_text(tmp_path, f"profiles:\n  a:\n    url: {written}\n")
    assert loaded.profiles["a"].url == normalised


def test_no_file_is_a_first_run(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "missing.yaml") == Settings(profiles={}, path=None)


def test_default_path_is_under_xdg_config_home(tmp_path: Path) -> None:
    assert load_settings() == Settings(profiles={}, path=None)
    folder = tmp_path / "xdg_config_home" / "stratus-tui"  # conftest points XDG_CONFIG_HOME here
    folder.mkdir(parents=True, mode=0o700)
    path = write(folder, "profiles:\n  lab:\n    url: https://lab.example.com\n")
    assert load_settings().path == path


def test_environment_variable_points_at_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "profiles:\n  x:\n    url: https://x.example.com\n", name="other.yaml")
    monkeypatch.setenv("STRATUS_TUI_CONFIG", str(path))
    assert list(load_settings().profiles) == ["x"]


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# only a comment\n", "profiles:\n", "profiles: {}\n"]
)
def test_empty_file_has_no_profiles(tmp_path: Path, text: str) -> None:
    loaded = load_text(tmp_path, text)
    assert loaded.profiles == {}
    assert loaded.path == tmp_path / "config.yaml"


def test_c_loader_is_used_when_available() -> None:
    import yaml

    if hasattr(yaml, "CSafeLoader"):
        assert settings_module._Loader is yaml.CSafeLoader


# -- YAML syntax -------------------------------------------------------------------------


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "profiles:\n  lab:\n\turl: https://x\n")
    # libyaml: "found character that cannot start any token" (it does not name the tab)
    assert message.startswith(f"{path} line 3 column 1: invalid YAML: found character ")
    assert message.endswith(" (a tab character: indent with spaces, not tabs)")


def test_missing_space_after_colon_gets_a_hint(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: a: b\n")
    assert message.startswith(f"{path} line 1 column 9: invalid YAML: mapping values are not ")
    assert message.endswith(" (a missing space after ':', or text that needs quotes)")


def test_control_character_is_a_yaml_error(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: dark\ntheme2: \x07\n")
    assert message.startswith(f"{path} line 2: invalid YAML: character '\\x07': ")
    assert message.endswith(" characters are not allowed")  # "control" (libyaml) or "special"


def test_two_documents_are_refused(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: a\n---\ntheme: b\n")
    assert message.startswith(f"{path} line 2 column 1: invalid YAML: ")


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: " + "[" * 200_000 + "\n")
    assert message == f"{path}: invalid YAML: lists or mappings nested too deeply"
    flat = "theme: x\n" + "".join(f"# [{n}]\n" for n in range(2000))  # many, not nested
    assert load_text(tmp_path, flat).theme == "x"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"theme: dark\ntheme: caf\xe9\n")
    path.chmod(0o600)
    assert error_for(path) == f"{path} line 2: the file is not UTF-8 text"


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "# " + "x" * (1024 * 1024) + "\n")
    assert "larger than 1 MiB" in error_for(path)


# -- structure: top level, unknown and duplicate keys ------------------------------------


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path, message = error_text(tmp_path, text)
    assert message == (
        f"{path} line 1: top level: the file must be a mapping of settings (key: value)"
    )


def test_unknown_key_on_line_7_did_you_mean(tmp_path: Path) -> None:
    text = """\
        default_profile: prod
        profiles:
          prod:
            url: https://stratus.example.com
            username: admin@example.com
          lab:
            ulr: https://lab.example.com
        """
    path, message = error_text(tmp_path, text)
    assert message == f"{path} line 7: profiles.lab.ulr: unknown key (did you mean 'url'?)"


def test_unknown_top_level_key_did_you_mean(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: x\nrefresh_second: 10\n")
    assert message == (
        f"{path} line 2: refresh_second: unknown key (did you mean 'refresh_seconds'?)"
    )


def test_unknown_key_without_a_close_match_lists_the_allowed_ones(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "profiles:\n  a:\n    url: https://a\n    zzz: 1\n")
    assert message == (
        f"{path} line 4: profiles.a.zzz: unknown key (allowed: auth, ca_bundle, label_color, "
        "o365_cache, protected, read_only, url, username)"
    )


def test_duplicate_profile_is_refused(tmp_path: Path) -> None:
    text = """\
        profiles:
          prod:
            url: https://one.example.com
          lab:
            url: https://lab.example.com
          prod:
            url: https://two.example.com
        """
    path, message = error_text(tmp_path, text)
    assert message == f"{path} line 6: profiles.prod: duplicate key (first at line 2)"


def test_duplicate_key_inside_a_profile_and_at_top_level(tmp_path: Path) -> None:
    path, message = error_text(
        tmp_path, "profiles:\n  a:\n    url: https://a\n    read_only: true\n    read_only: no\n"
    )
    assert message == f"{path} line 5: profiles.a.read_only: duplicate key (first at line 4)"
    path, message = error_text(tmp_path, "theme: a\ntheme: b\n")
    assert message == f"{path} line 2: theme: duplicate key (first at line 1)"


def test_non_scalar_key_is_refused(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "? [a, b]\n: 1\n")
    assert message == f"{path} line 1: : keys must be plain names, not lists or mappings"


# -- secrets -----------------------------------------------------------------------------

SECRET_TAIL = (
    "passwords and tokens never go in the config file: the TUI asks for the password at "
    "login, and scripts read it from the STRATUS_PASSWORD environment variable"
)


@pytest.mark.parametrize("key", ["password", "token", "secret", "client_secret", "Password"])
def test_secret_in_a_profile_is_refused(tmp_path: Path, key: str) -> None:
    text = f"profiles:\n  prod:\n    url: https://x.example.com\n    {key}: hunter2\n"
    path, message = error_text(tmp_path, text)
    assert message == f"{path} line 4: profiles.prod.{key}: {SECRET_TAIL}"
    assert "hunter2" not in message


def test_secret_at_top_level_is_refused(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: dark\npassword: hunter2\n")
    assert message == f"{path} line 2: password: {SECRET_TAIL}"


def test_password_in_the_url_is_refused_and_not_echoed(tmp_path: Path) -> None:
    text = "profiles:\n  a:\n    url: https://admin:hunter2@x.example.com\n"
    path, message = error_text(tmp_path, text)
    assert message.startswith(f"{path} line 3: profiles.a.url: must not contain a user name")
    assert "hunter2" not in message


# -- values ------------------------------------------------------------------------------


def profile_error(tmp_path: Path, line: str) -> str:
    """The message for a profile `a` with https url and one more line (the file's line 4)."""
    path, message = error_text(tmp_path, f"profiles:\n  a:\n    url: https://a.example\n{line}\n")
    prefix = f"{path} line 4: profiles.a."
    assert message.startswith(prefix), message
    return message.removeprefix(prefix)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("    read_only: 'true'", "read_only: must be true or false (without quotes), not text"),
        ("    read_only: 1", "read_only: must be true or false (without quotes), not a number"),
        ("    protected:", "protected: must be true or false (without quotes), not empty"),
        ("    username: 12345", "username: must be text, not a number (put it in quotes)"),
        ("    username: [a]", "username: must be text, not a list (put it in quotes)"),
        ("    username: ''", "username: must not be empty"),
        ("    auth: oauth", "auth: must be password or o365, not 'oauth'"),
        ("    auth: o356", "auth: must be password or o365, not 'o356' (did you mean 'o365'?)"),
        ("    o365_cache: disk", "o365_cache: must be memory, keyring or file, not 'disk'"),
        (
            "    o365_cache: keyrng",
            "o365_cache: must be memory, keyring or file, not 'keyrng' (did",
        ),
        ("    label_color: rde", "label_color: unknown colour 'rde' (did you mean 'red'?)"),
        ("    label_color: '#12'", "label_color: unknown colour '#12' (use #rgb, #rrggbb or one"),
        ("    ca_bundle: /nonexistent/ca.pem", "ca_bundle: /nonexistent/ca.pem does not exist"),
    ],
)
def test_profile_value_errors(tmp_path: Path, line: str, problem: str) -> None:
    assert profile_error(tmp_path, line).startswith(problem)


def test_o365_cache_defaults_to_memory_and_a_file_is_warned_about(tmp_path: Path) -> None:
    plain = load_text(tmp_path, "profiles:\n  a:\n    url: https://a\n    auth: o365\n")
    assert plain.profiles["a"].o365_cache == "memory" and not plain.warnings
    text = "profiles:\n  a:\n    url: https://a\n    auth: o365\n    o365_cache: File\n"
    loaded = load_text(tmp_path, text)
    assert loaded.profiles["a"].o365_cache == "file"
    [warning] = loaded.warnings
    assert "line 5: profiles.a.o365_cache: file keeps the O365 refresh token in plain text" in (
        warning
    )


def test_ca_bundle_must_be_a_file_and_expands_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "certs").mkdir()
    assert profile_error(tmp_path, f"    ca_bundle: {tmp_path}/certs") == (
        f"ca_bundle: {tmp_path}/certs is not a file"
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "certs" / "ca.pem").write_text("x")
    text = "profiles:\n  a:\n    url: https://a\n    ca_bundle: ~/certs/ca.pem\n"
    loaded = load_text(tmp_path, text)
    assert loaded.profiles["a"].ca_bundle == tmp_path / "certs" / "ca.pem"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("red", "red"),
        ("Grey", "grey"),
        ("gray", "gray"),
        ("bright_red", "#e74856"),
        ("bright-blue", "#3b78ff"),
        ("'#F00'", "#f00"),
        ("'#00aaFF'", "#00aaff"),
    ],
)
def test_label_colors(tmp_path: Path, written: str, stored: str) -> None:
    text = f"profiles:\n  a:\n    url: https://a\n    label_color: {written}\n"
    assert load_text(tmp_path, text).profiles["a"].label_color == stored


def test_every_label_color_is_one_textual_can_parse() -> None:
    from textual.color import Color

    for value in COLORS.values():
        Color.parse(value)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://x.example.com", "must start with https:// (or http://), not 'ftp:'"),
        ("stratus.example.com", "must start with https:// (or http://), e.g. https://"),
        ("https://", "has no host name"),
        ("https://x.example.com:99999", "is not a valid URL (check the host and port)"),
        ("https://x.example.com/?a=1", "must not have a query (?...) or fragment (#...)"),
        ("'https://x .example.com'", "must not contain spaces"),
        ("''", "must not be empty"),
        ("", "url is required"),
        ("true", "must be text, not true/false (put it in quotes)"),
    ],
)
def test_url_errors(tmp_path: Path, url: str, problem: str) -> None:
    path, message = error_text(tmp_path, f"profiles:\n  a:\n    url: {url}\n")
    assert message.startswith(f"{path} line 3: profiles.a.url: {problem}")


def test_missing_url(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "profiles:\n  a:\n    username: me\n")
    assert message == f"{path} line 2: profiles.a: url is required"
    path, message = error_text(tmp_path, "profiles:\n  a:\n")
    assert message == f"{path} line 2: profiles.a: url is required"


def test_plain_http_to_a_remote_host_is_a_warning(tmp_path: Path) -> None:
    text = """\
        profiles:
          remote:
            url: http://lab.example.com:4444
          local:
            url: http://127.0.0.1:4444
          named:
            url: http://localhost:4444
          v6:
            url: http://[::1]:4444
        """
    path = write(tmp_path, text)
    loaded = load_settings(path)
    assert len(loaded.profiles) == 4
    assert loaded.warnings == (
        f"{path} line 3: profiles.remote.url: plain http to lab.example.com: the password "
        "would travel unencrypted (use https)",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("4", "must be a whole number of seconds from 5 to 3600, not 4"),
        ("3601", "must be a whole number of seconds from 5 to 3600, not 3601"),
        ("'30'", "must be a whole number of seconds from 5 to 3600, not text"),
        ("30.5", "must be a whole number of seconds from 5 to 3600, not a decimal number"),
        ("true", "must be a whole number of seconds from 5 to 3600, not true/false"),
    ],
)
def test_refresh_seconds(tmp_path: Path, value: str, problem: str) -> None:
    path, message = error_text(tmp_path, f"theme: x\nrefresh_seconds: {value}\n")
    assert message == f"{path} line 2: refresh_seconds: {problem}"
    assert load_text(tmp_path, "refresh_seconds: 5\n").refresh_seconds == 5


def test_theme_must_be_text(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "theme: ''\n")
    assert message == f"{path} line 1: theme: must not be empty"
    assert load_text(tmp_path, "theme: gruvbox\n").theme == "gruvbox"


def test_untrusted_tags_are_never_constructed(tmp_path: Path) -> None:
    text = "theme: !!python/object/apply:os.system ['true']\n"
    path, message = error_text(tmp_path, text)
    assert message.startswith(f"{path} line 1: theme: must be text, not a ")


# -- profile names and default_profile ---------------------------------------------------


@pytest.mark.parametrize("name", ["'my prod'", "'..'", "'-x'", "'prod/eu'", "'é'", "''"])
def test_bad_profile_names(tmp_path: Path, name: str) -> None:
    path, message = error_text(tmp_path, f"theme: x\nprofiles:\n  {name}:\n    url: https://a\n")
    assert message.startswith(f"{path} line 3: profiles.")
    assert "profile name" in message


def test_good_profile_names(tmp_path: Path) -> None:
    text = "profiles:\n  prod-eu.2:\n    url: https://a\n  2024:\n    url: https://b\n"
    assert list(load_text(tmp_path, text).profiles) == ["prod-eu.2", "2024"]


def test_default_profile_must_exist(tmp_path: Path) -> None:
    text = """\
        default_profile: prdo
        profiles:
          prod:
            url: https://a
          lab:
            url: https://b
        """
    path, message = error_text(tmp_path, text)
    assert message == (
        f"{path} line 1: default_profile: no profile named 'prdo' (did you mean 'prod'?); "
        "profiles: lab, prod"
    )


def test_profiles_must_be_a_mapping(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "profiles:\n  - prod\n")
    assert message == f"{path} line 2: profiles: must be a mapping (name: value), not a list"


# -- keymap ------------------------------------------------------------------------------


def test_keymap_unknown_binding_did_you_mean(tmp_path: Path) -> None:
    path, message = error_text(tmp_path, "keymap:\n  quit: ctrl+q\n  refesh: f5\n")
    assert message == f"{path} line 3: keymap.refesh: unknown key (did you mean 'refresh'?)"


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("'ctrl + r'", "'ctrl + r' has a space inside"),
        ("'r,,f5'", "an empty key in the list"),
        ("'r,'", "an empty key in the list"),
        ("escpae", "'escpae': unknown key name 'escpae' (did you mean 'escape'?)"),
        ("F5", "'F5': unknown key name 'F5' (did you mean 'f5'?)"),
        ("f25", "'f25': unknown key name 'f25'"),
        ("ctlr+r", "'ctlr+r': unknown modifier 'ctlr' (did you mean 'ctrl'?)"),
        ("ctrl+ctrl+r", "'ctrl+ctrl+r' repeats a modifier"),
        ("ctrl+R", "'ctrl+R': write the letter in lower case"),
        ("ctrl+/", "'ctrl+/': after a modifier write a name for '/'"),
        ("''", "must not be empty"),
        ("[r]", "must be text, not a list"),
    ],
)
def test_keymap_malformed_values(tmp_path: Path, keys: str, problem: str) -> None:
    path, message = error_text(tmp_path, f"keymap:\n  refresh: {keys}\n")
    assert message.startswith(f"{path} line 2: keymap.refresh: {problem}"), message


@pytest.mark.parametrize(
    "keys",
    ["f5", "ctrl+r", "shift+tab", "question_mark,f1", "R", "?", "ctrl+shift+up", "f24", "space"],
)
def test_keymap_good_values(tmp_path: Path, keys: str) -> None:
    loaded = load_text(tmp_path, f"keymap:\n  help: '{keys}'\n")
    assert loaded.keymap == {"help": keys}


def test_every_default_binding_passes_the_keymap_check(tmp_path: Path) -> None:
    from stratus_tui.keys import KEYS

    lines = "".join(f"  {spec.id}: '{spec.keys}'\n" for spec in KEYS)
    loaded = load_text(tmp_path, "keymap:\n" + lines)
    assert set(loaded.keymap) == KEY_IDS


def test_key_names_are_names_textual_uses() -> None:
    import string

    from textual.keys import Keys, _character_to_key

    known = {key.value for key in Keys} | {_character_to_key(c) for c in string.punctuation}
    assert known >= KEY_NAMES


# -- reading the file: permissions, folders, unreadable ------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o664, 0o646, 0o666])
def test_file_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = write(tmp_path, "theme: x\n", mode=mode)
    assert error_for(path) == (
        f"{path} is writable by other users (mode {mode:04o}): run chmod go-w {path}"
    )


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_for_others_is_fine(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "theme: x\n", mode=0o644)).theme == "x"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_folder_writable_by_others_is_refused_unless_sticky(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = write(folder, "theme: x\n")
    folder.chmod(0o777)
    assert error_for(path) == (
        f"{folder} is writable by other users (mode 0777): run chmod go-w {folder}"
    )
    folder.chmod(0o1777)  # like /tmp: others cannot replace a file they do not own
    assert load_settings(path).theme == "x"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_symlinked_file_checks_the_real_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = write(shared, "theme: x\n")
    shared.chmod(0o775)
    link = tmp_path / "config.yaml"
    link.symlink_to(target)
    assert error_for(link).startswith(f"{shared} is writable by other users (mode 0775)")


@pytest.mark.skipif(os.name != "posix", reason="POSIX ownership")
def test_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "theme: x\n")
    if os.getuid() == 0:
        os.chown(path, 4321, -1)
    else:
        monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)
    owner = path.stat().st_uid
    assert error_for(path) == (
        f"{path} belongs to another user (uid {owner}): use a config file of your own"
    )


def test_a_folder_is_not_a_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "config.yaml"
    folder.mkdir(mode=0o700)
    assert error_for(folder) == f"{folder} is a folder, not a config file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo, 0o600)
    assert error_for(fifo) == f"{fifo} is not a regular file"


def test_permission_denied_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "theme: x\n")
    real_open = os.open

    def refuse(target: object, *args: object, **kwargs: object) -> int:
        if Path(str(target)) == path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    assert error_for(path) == f"{path}: cannot read the config file (permission denied)"


@pytest.mark.skipif(os.name != "posix" or os.getuid() == 0, reason="root reads anything")
def test_unreadable_file_for_real(tmp_path: Path) -> None:
    path = write(tmp_path, "theme: x\n", mode=0)
    assert error_for(path) == f"{path}: cannot read the config file (permission denied)"


# -- choosing a profile ------------------------------------------------------------------


def two_profiles(default: str | None = None) -> Settings:
    return Settings(
        profiles={
            "prod": Profile(name="prod", url="https://prod.example.com"),
            "lab": Profile(name="lab", url="https://lab.example.com"),
        },
        default_profile=default,
    )


def test_choose_by_name_then_default_then_only_one() -> None:
    assert choose_profile(two_profiles(), "lab").name == "lab"
    assert choose_profile(two_profiles("prod"), "lab").name == "lab"
    assert choose_profile(two_profiles("prod"), None).name == "prod"
    only = Settings(profiles={"x": Profile(name="x", url="https://x")})
    assert choose_profile(only, None).name == "x"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("prdo", "no profile named 'prdo' (did you mean 'prod'?); profiles: lab, prod"),
        ("PROD", "no profile named 'PROD' (did you mean 'prod'?); profiles: lab, prod"),
        ("zzz", "no profile named 'zzz'; profiles: lab, prod"),
        (
            None,
            "several profiles and no default_profile: pass --profile NAME (profiles: lab, prod)",
        ),
    ],
)
def test_choose_profile_errors(name: str | None, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        choose_profile(two_profiles(), name)
    assert str(caught.value) == message


def test_choose_profile_with_no_profiles_points_at_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        choose_profile(load_settings(), None)
    expected = tmp_path / "xdg_config_home" / "stratus-tui" / "config.yaml"
    assert str(caught.value) == (
        f"no profiles configured yet: add one to {expected} (or try `stratus-tui demo`)"
    )
    with pytest.raises(ConfigError, match=r"^no profile named 'lab': no profiles configured"):
        choose_profile(Settings(profiles={}), "lab")


# -- first run ---------------------------------------------------------------------------


def test_first_run_text_names_the_file_and_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "stratus-tui" / "config.yaml"
    text = describe_first_run(path)
    assert str(path) in text
    assert "`stratus-tui demo`" in text
    assert "url: https://stratus.example.com:4444" in text
    assert "password" in text.lower()
    assert len(text.splitlines()) > 5


def test_first_run_example_is_a_valid_config(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, EXAMPLE_CONFIG)
    assert choose_profile(loaded, None) == Profile(
        name="prod", url="https://stratus.example.com:4444", username="admin@example.com"
    )


# -- start-up cost -----------------------------------------------------------------------


def test_import_does_not_pull_in_heavy_packages() -> None:
    code = (
        "import stratus_tui.config.settings, sys; "
        "print(*(name in sys.modules for name in ('pydantic', 'httpx', 'textual', 'platformdirs')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False", "False", "False"]


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    """A sample of failures: each message starts with the path and has no newline."""
    samples = [
        "profiles:\n  a: [",
        "profiles:\n  a:\n    url: https://a\n    read_only: maybe\n",
        "keymap: []\n",
        "profiles: 3\n",
        "theme:\n  - a\n",
    ]
    for index, sample in enumerate(samples):
        path = write(tmp_path, sample, name=f"c{index}.yaml")
        message = error_for(path)
        assert re.match(rf"^{re.escape(str(path))} line \d+", message), message
