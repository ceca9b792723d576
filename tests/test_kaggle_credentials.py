"""Signing in, offline: the installed `kaggle` package is asked, every way it supports, with its HTTP
client faked where it would call Kaggle (token checks); Colab's secrets as Colab serves them."""

import json
import os
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from kagglesdk.security.types.oauth_service import IntrospectTokenResponse

from digit_recognizer import config
from digit_recognizer.kaggle_api import credentials
from digit_recognizer.kaggle_api.credentials import KaggleError, NoCredentials, refusal, sign_in
from tests.kaggle_fakes import FakeClient, http_error, no_network, real_api
from tests.test_kaggle_api import execute

CREDENTIAL_VARIABLES = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR",
                        "KAGGLE_API_V1_TOKEN", config.KAGGLE_ENV)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home without credentials: no ~/.kaggle, no KAGGLE_* variables."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".kaggle").mkdir()
    return tmp_path


class TokenCheck:
    """Kaggle's answer to the package's check of an access token (oauth_client.introspect_token)."""

    def __init__(self, username=None, error=None):
        self.username, self.error, self.tokens = username, error, []

    def introspect_token(self, request):
        self.tokens.append(request.token)
        if self.error:
            raise self.error
        reply = IntrospectTokenResponse()
        reply.active, reply.username = bool(self.username), self.username or ""
        return reply


def api_factory(home, check=None):
    return lambda: real_api(home / ".kaggle", FakeClient(security__oauth_client=check or TokenCheck()))


def test_without_any_credentials_the_steps_are_given(home):
    with pytest.raises(NoCredentials, match="no Kaggle credentials found, so nothing was sent") as caught:
        sign_in("sent", api_factory(home))
    steps = str(caught.value)
    for way in ("kaggle auth login", "KAGGLE_API_TOKEN", "~/.kaggle/access_token", "kaggle.json",
                "KAGGLE_USERNAME and KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "digit-recognizer/rules"):
        assert way in steps


def test_a_legacy_kaggle_json_or_username_and_key_sign_in_without_a_call(home, monkeypatch):
    (home / ".kaggle" / "kaggle.json").write_text('{"username": "file-me", "key": "k"}')
    check = TokenCheck()
    assert sign_in("sent", api_factory(home, check)).get_config_value("username") == "file-me"
    (home / ".kaggle" / "kaggle.json").unlink()
    monkeypatch.setenv("KAGGLE_USERNAME", "env-me")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    assert sign_in("sent", api_factory(home, check)).get_config_value("username") == "env-me"
    assert check.tokens == []


@pytest.mark.parametrize("where", ["KAGGLE_API_TOKEN", "~/.kaggle/access_token"])
def test_an_access_token_is_checked_with_kaggle(home, monkeypatch, where):
    if where == "KAGGLE_API_TOKEN":
        monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_good")
    else:
        (home / ".kaggle" / "access_token").write_text("KGAT_good\n")
    check = TokenCheck(username="token-me")
    assert sign_in("sent", api_factory(home, check)).get_config_value("username") == "token-me"
    assert check.tokens == ["KGAT_good"]


def test_a_refused_access_token_is_told_apart_from_none(home, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_expired")
    with pytest.raises(KaggleError, match="refused the access token in KAGGLE_API_TOKEN .*api") as caught:
        sign_in("sent", api_factory(home, TokenCheck(username=None)))
    assert not isinstance(caught.value, NoCredentials)


def test_kaggle_auth_login_credentials_sign_in(home):
    """What `kaggle auth login` leaves in ~/.kaggle/credentials.json, its access token still valid."""
    expires = (datetime.now(UTC) + timedelta(hours=6)).isoformat()
    (home / ".kaggle" / "credentials.json").write_text(json.dumps({
        "refresh_token": "r", "access_token": "a", "access_token_expiration": expires,
        "username": "oauth-me", "scopes": []}))
    assert sign_in("sent", api_factory(home)).get_config_value("username") == "oauth-me"


def test_no_network_while_signing_in_is_one_line(home, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_good")
    with pytest.raises(KaggleError, match=r"could not be reached \(no network\?\), so nothing was sent"):
        sign_in("sent", api_factory(home, TokenCheck(error=no_network())))


def test_kaggle_config_dir_moves_kaggle_json(home):
    """The package reads KAGGLE_CONFIG_DIR when it is imported: a fresh process, as `make submit` is."""
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kaggle.json").write_text('{"username": "moved-me", "key": "k"}')
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    code = ("from digit_recognizer.kaggle_api.credentials import sign_in\n"
            "print(sign_in('sent').get_config_value('username'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=env | {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(elsewhere)})
    assert done.stdout.strip().splitlines()[-1] == "moved-me", done.stderr[-2000:]


@pytest.mark.parametrize("status, expected", [
    (401, r"401 Unauthorized\), so nothing was listed: the token is invalid, expired or revoked"),
    (403, r"403 Forbidden\), so nothing was listed: accept the competition's rules at "
          r"https://www\.kaggle\.com/competitions/digit-recognizer/rules"),
    (500, "Kaggle answered 500, so nothing was listed"),
])
def test_each_http_refusal_is_its_own_line(status, expected):
    assert len(str(refusal(http_error(status), "listed")).splitlines()) == 1
    with pytest.raises(KaggleError, match=expected):
        raise refusal(http_error(status), "listed")


def test_username_from_environment_or_token_file(tmp_path):
    assert credentials.kaggle_username({"KAGGLE_USERNAME": "env-me"}, home=tmp_path) == "env-me"
    assert credentials.kaggle_username({}, home=tmp_path) is None
    (tmp_path / ".kaggle").mkdir()
    (tmp_path / ".kaggle" / "kaggle.json").write_text('{"username": "file-me", "key": "k"}')
    assert credentials.kaggle_username({}, home=tmp_path) == "file-me"


def fake_colab(monkeypatch, secrets: dict):
    """google.colab.userdata as Colab has it: get() raises for a secret the notebook may not read."""
    class SecretNotFoundError(Exception):
        pass

    def get(name):
        if name not in secrets:
            raise SecretNotFoundError(name)
        return secrets[name]

    google, colab = types.ModuleType("google"), types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(get=get)
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)


@pytest.mark.parametrize("secrets", [{"KAGGLE_USERNAME": "colab-user", "KAGGLE_KEY": "colab-key"},
                                     {"KAGGLE_API_TOKEN": "KGAT_colab"}, {}],
                         ids=["username and key", "token", "no secrets"])
def test_colab_secrets_become_the_credentials_the_kaggle_package_reads(monkeypatch, secrets):
    fake_colab(monkeypatch, secrets)
    environ = {}
    assert credentials.load_colab_secrets(environ) == list(secrets)
    assert environ == secrets


FAKE_COLAB = Path(__file__).parent / "fakes" / "colab"  # google.colab.userdata as Colab has it
COLAB_CELLS = [
    # the credentials the notebook's own process finds: Colab's secrets
    "import os\nfrom digit_recognizer.kaggle_api import credentials\n\n"
    "print('copied', credentials.load_colab_secrets(), os.environ.get('KAGGLE_USERNAME'))",
    # what a command the notebook starts finds: Colab does not answer it
    "import subprocess, sys\n\n"
    "done = subprocess.run([sys.executable, '-c', 'from digit_recognizer.kaggle_api import credentials; "
    "credentials.load_colab_secrets()'], capture_output=True, text=True, "
    "env={k: v for k, v in os.environ.items() if not k.startswith('KAGGLE_')})\n"
    "print(done.returncode, done.stderr.strip().splitlines()[-1])",
]


@pytest.mark.e2e
def test_colab_secrets_reach_the_notebooks_own_process_and_a_child_is_told_why_not(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"KAGGLE_USERNAME": {"value": "colab-user", "access": True},
                                   "KAGGLE_KEY": {"value": "colab-key", "access": True},
                                   "KAGGLE_API_TOKEN": {"value": "hidden", "access": False}}))
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kaggle
    monkeypatch.setenv("FAKE_COLAB_SECRETS", str(secrets))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(FAKE_COLAB),
                                                                   os.environ.get("PYTHONPATH")])))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in COLAB_CELLS])
    assert execute(notebook, tmp_path) is None
    own, child = ("".join(o.get("text", "") for o in cell.outputs).strip() for cell in notebook.cells)
    assert own == "copied ['KAGGLE_USERNAME', 'KAGGLE_KEY'] colab-user"
    assert child.startswith("1 ") and "Colab's secret KAGGLE_USERNAME could not be read: Colab gives its " \
        "secrets only to the notebook's own process" in child and "download.kaggle_files()" in child


def test_the_readme_says_to_download_in_the_notebooks_own_process_on_colab():
    readme = (config.PROJECT_DIR / "README.md").read_text()
    colab = readme.split("## Run on Colab")[1].split("\n## ")[0]
    assert "download.kaggle_files()" in colab and "!python -m digit_recognizer.download" not in colab
