from __future__ import annotations

import configparser
import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stashplex import settings as S
from stashplex.settings import SettingsError, load

REPO = Path(__file__).resolve().parents[2]

SEED_CONFIG = """\
[plexagentserver]
host = 0.0.0.0
port = 7979
num_workers = 2
poster_mode = false
agent_base_url = http://192.168.1.81:7979

[stash]
ip = 192.168.1.71
port = 9999
api_key =
debug = false
cache_ttl = 300

[plex]
url =
token =
"""


def write(tmp_path: Path, text: str, name: str = "settings.ini") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_config_works_unchanged(tmp_path: Path) -> None:
    s = load(write(tmp_path, SEED_CONFIG, "stashplexagent.config"), {})
    assert s.server.port == 7979
    assert s.server.num_workers == 2
    assert s.server.poster_mode is False
    assert s.server.agent_base_url == "http://192.168.1.81:7979"
    assert s.stash.url == "http://192.168.1.71:9999"
    assert s.stash.api_key is None
    assert s.stash.cache_ttl == 300
    assert s.plex.url is None and s.plex.token is None and not s.plex.enabled
    # New keys take their defaults, relative paths resolve next to the file.
    assert s.mirror.database == tmp_path / "data" / "stashplex.db"
    assert s.sync.interval_minutes == 15
    assert s.match.path_map == ()


def test_shipped_sample_lists_every_key_and_parses_to_defaults() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "settings.ini", encoding="utf-8")
    listed = {(section, key) for section in parser.sections() for key in parser[section]}
    declared = {(key.section, key.name) for key in S.KEYS}
    assert listed == declared
    from_file = load(REPO / "settings.ini", {})
    defaults = load(None, {}, search=False)
    assert from_file.server == defaults.server
    assert from_file.stash == defaults.stash
    assert from_file.sync == defaults.sync
    assert from_file.metadata == defaults.metadata


def test_every_key_has_a_comment_in_the_sample_and_a_row_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    # A comment covers the keys right below it (host and port share one).
    commented, section, under_comment = set(), "", False
    for line in (REPO / "settings.ini").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            under_comment = True
        elif line.startswith("["):
            section, under_comment = line.strip("[]"), False
        elif "=" in line and not line.startswith(" ") and under_comment:
            commented.add((section, line.split("=")[0].strip()))
        elif not line.startswith(" "):
            under_comment = False
    for key in S.KEYS:
        assert f"| `[{key.section}]` | `{key.name}` |" in readme, key.name
        assert (key.section, key.name) in commented, f"settings.ini: no comment on {key.name}"


def test_stash_url_wins_over_ip_and_port(tmp_path: Path) -> None:
    path = write(tmp_path, "[stash]\nurl = https://stash.example.lan/\nip = 10.0.0.1\nport = 1\n")
    assert load(path, {}).stash.url == "https://stash.example.lan"


def test_ipv6_ip_is_bracketed(tmp_path: Path) -> None:
    assert load(write(tmp_path, "[stash]\nip = ::1\n"), {}).stash.url == "http://[::1]:9999"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, SEED_CONFIG)
    env = {
        "STASH_HOST": "http://127.0.0.1:1234",
        "STASH_API_KEY": "secret-key-123",
        "DEBUG": "true",
        "CACHE_TTL": "0",
        "POSTER_MODE": "yes",
        "AGENT_BASE_URL": "http://10.1.1.1:7979",
        "PLEX_URL": "http://127.0.0.1:32400",
        "PLEX_TOKEN": "tok-abcdef",
        "DEV": "1",
        "STASHPLEX_SYNC_INTERVAL_MINUTES": "5",
    }
    s = load(path, env)
    assert s.stash.url == "http://127.0.0.1:1234"
    assert s.stash.api_key == "secret-key-123"
    assert s.stash.debug is True
    assert s.stash.cache_ttl == 0
    assert s.server.poster_mode is True
    assert s.server.agent_base_url == "http://10.1.1.1:7979"
    assert s.plex.enabled
    assert s.dev is True
    assert s.sync.interval_minutes == 5
    assert set(s.secrets) == {"secret-key-123", "tok-abcdef"}


def test_seed_env_name_beats_generic_name(tmp_path: Path) -> None:
    env = {"CACHE_TTL": "7", "STASHPLEX_STASH_CACHE_TTL": "9"}
    assert load(None, env, search=False).stash.cache_ttl == 7


@pytest.mark.parametrize("name", ["STASH_HOST", "PLEX_TOKEN", "CACHE_TTL", "DEBUG", "DEV"])
def test_empty_environment_variable_counts_as_unset(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, SEED_CONFIG.replace("cache_ttl = 300", "cache_ttl = 42"))
    s = load(path, {name: "", "PLEX_URL": "   "})
    assert s.stash.url == "http://192.168.1.71:9999"
    assert s.stash.cache_ttl == 42
    assert s.plex.url is None
    assert s.dev is False


def test_settings_file_picked_by_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[plexagentserver]\nport = 8123\n", "custom.ini")
    assert load(None, {"STASHPLEX_SETTINGS": str(path)}).server.port == 8123


def test_settings_search_list_takes_the_first_file_there(tmp_path: Path) -> None:
    # The Docker image: the old agent's mount point first, then its own sample.
    old = tmp_path / "app" / "stashplexagent.config"
    sample = write(tmp_path, "[plexagentserver]\nport = 8124\n", "settings.ini")
    listed = os.pathsep.join([str(old), str(sample)])
    assert load(None, {"STASHPLEX_SETTINGS": listed}).source == sample
    old.parent.mkdir()
    old.write_text("[plexagentserver]\nport = 8125\n", encoding="utf-8")
    assert load(None, {"STASHPLEX_SETTINGS": listed}).server.port == 8125
    with pytest.raises(SettingsError, match="settings file not found"):
        load(None, {"STASHPLEX_SETTINGS": os.pathsep.join([str(tmp_path / "a"), "b"])})


def test_default_file_names_in_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load(None, {}).source is None
    write(tmp_path, "[plexagentserver]\nport = 8001\n", "stashplexagent.config")
    assert load(None, {}).server.port == 8001
    write(tmp_path, "[plexagentserver]\nport = 8002\n", "settings.ini")
    assert load(None, {}).server.port == 8002


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="settings file not found"):
        load(tmp_path / "nope.ini", {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[plexagentserver]\nport = abc\n", "[plexagentserver] port = 'abc': expected a whole"),
        ("[plexagentserver]\nport = 70000\n", "port = '70000': expected a whole number from 1"),
        ("[stash]\ntimeout = -1\n", "[stash] timeout = '-1': expected a number of seconds"),
        ("[stash]\ntimeout = nan\n", "[stash] timeout = 'nan'"),
        ("[stash]\nurl = 192.168.1.71:9999\n", "[stash] url = '192.168.1.71:9999': expected a URL"),
        ("[stash]\nurl = http://\n", "the URL has no host name"),
        ("[stash]\nurl = http://h:99999\n", "invalid port"),
        ("[stash]\nip = http://1.2.3.4\n", "[stash] ip = 'http://1.2.3.4': expected a bare host"),
        ("[stash]\ndebug = maybe\n", "[stash] debug = 'maybe': expected true or false"),
        ("[stash]\ncache_ttl = -5\n", "[stash] cache_ttl = '-5'"),
        ("[stash]\ntiemout = 5\n", "[stash] tiemout = '5': unknown key (did you mean 'timeout'?)"),
        ("[stash]\nfrobnicate = 5\n", "[stash] frobnicate = '5': unknown key; known keys:"),
        ("[stahs]\nip = 1.2.3.4\n", "[stahs]: unknown section (did you mean [stash]?)"),
        ("[mirror]\nposter_style = fancy\n", "poster_style = 'fancy': expected one of letterbox"),
        ("[match]\npath_map =\n    /a /b\n", "expected 'plex_prefix = stash_prefix'"),
        ("[plexagentserver]\nallowed_networks = 10.0.0.0/8, lan\n", "'lan' is not an IP network"),
        ("[sync]\ninterval_minutes = 0\n", "[sync] interval_minutes = '0'"),
        ("no section header\n", "not a valid settings file"),
        ("[stash]\nport = 1\nport = 2\n", "not a valid settings file"),
    ],
)
def test_bad_values_name_file_section_key_and_value(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load(path, {})
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message
    assert "\n" not in message


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^environment STASH_HOST = 'stash:9999': expected"):
        load(None, {"STASH_HOST": "stash:9999"}, search=False)
    with pytest.raises(SettingsError, match=r"^environment DEV = 'sure'"):
        load(None, {"DEV": "sure"}, search=False)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"STASHPLEX_SYNC_INTERVAL_MINUTE": "5"},
            "environment STASHPLEX_SYNC_INTERVAL_MINUTE = '5': unknown variable "
            "(did you mean STASHPLEX_SYNC_INTERVAL_MINUTES?)",
        ),
        (
            {"STASHPLEX_PLEXAGENTSERVER_PROT": "8080"},
            "(did you mean STASHPLEX_PLEXAGENTSERVER_PORT?)",
        ),
        ({"STASHPLEX_SETTING": "x.ini"}, "(did you mean STASHPLEX_SETTINGS?)"),
        (
            {"STASHPLEX_FROBNICATE": "1"},
            "environment STASHPLEX_FROBNICATE = '1': unknown variable; a key is set as "
            "STASHPLEX_<SECTION>_<KEY>",
        ),
        ({"STASHPLEX_STASH_APIKEY": "hunter2-secret"}, "= <hidden>: unknown variable"),
        ({"STASHPLEX_PLEX_TOKN": "hunter2-secret"}, "(did you mean STASHPLEX_PLEX_TOKEN?)"),
    ],
)
def test_a_misspelt_environment_variable_is_reported_like_a_misspelt_key(
    environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load(None, {**environ, "STASHPLEX_STASH_TIMEOUT": "5"}, search=False)
    assert expected in str(info.value)
    assert "hunter2-secret" not in str(info.value)


def test_other_stashplex_variables_and_empty_ones_are_fine() -> None:
    environ = {
        "STASHPLEX_TEST_WORKERS": "0",
        "STASHPLEX_FROBNICATE": "",
        "STASHPLEX_TV_SHOW_BY": "",
    }
    assert load(None, environ, search=False).tv.show_by == "studio"


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "[stash]\napi_kye = hunter2-secret\n")
    with pytest.raises(SettingsError) as info:
        load(path, {})
    assert "hunter2-secret" not in str(info.value)
    assert "did you mean 'api_key'" in str(info.value)


def test_path_map_pairs_sorted_longest_first(tmp_path: Path) -> None:
    text = "[match]\npath_map =\n    /mnt = /data\n    /mnt/media/x = /y\n    D:\\Videos = /v\n"
    s = load(write(tmp_path, text), {})
    assert s.match.path_map == (("/mnt/media/x", "/y"), ("D:\\Videos", "/v"), ("/mnt", "/data"))


def test_lists_and_networks(tmp_path: Path) -> None:
    text = (
        "[metadata]\nignore_tags = Favorite, ,  4K ,\n"
        "[plexagentserver]\nallowed_networks = 10.1.0.0/16\n"
    )
    s = load(write(tmp_path, text), {})
    assert s.metadata.ignore_tags == ("Favorite", "4K")
    assert s.server.allowed_networks == (ipaddress.ip_network("10.1.0.0/16"),)


def test_percent_signs_are_literal(tmp_path: Path) -> None:
    s = load(write(tmp_path, "[metadata]\ncontent_rating = 100%\n"), {})
    assert s.metadata.content_rating == "100%"


def test_settings_repr_and_describe_hide_secrets() -> None:
    s = load(None, {"STASH_API_KEY": "k-very-secret", "PLEX_TOKEN": "t-very-secret"}, search=False)
    assert "very-secret" not in repr(s)
    text = S.describe(s)
    assert "very-secret" not in text
    assert "api_key = <set>" in text


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stashplex", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
    )


def test_cli_bad_settings_exit_code_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[stash]\napi_key = sekrit-value\nport = abc\n")
    result = run_cli("settings", "--settings", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"stashplex: {path}: [stash] port = 'abc': expected a whole number from 1 to 65535"
    ]
    assert "sekrit-value" not in result.stderr + result.stdout


def test_cli_settings_prints_effective_values(tmp_path: Path) -> None:
    path = write(tmp_path, SEED_CONFIG)
    result = run_cli("settings", "--settings", str(path), env={"STASH_API_KEY": "abc-secret-1"})
    assert result.returncode == 0, result.stderr
    assert "url = http://192.168.1.71:9999" in result.stdout
    assert "api_key = <set>" in result.stdout
    assert "abc-secret-1" not in result.stdout
