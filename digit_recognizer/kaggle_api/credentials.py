"""Signing in: the `kaggle` package itself is asked, in every way it supports (`kaggle auth login`,
KAGGLE_API_TOKEN, ~/.kaggle/access_token, kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY, KAGGLE_CONFIG_DIR),
and whatever Kaggle refuses becomes one line saying what to do."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

from ..config import on_kaggle

COMPETITION = "digit-recognizer"
COMPETITION_URL = f"https://www.kaggle.com/competitions/{COMPETITION}"
RULES_URL = f"{COMPETITION_URL}/rules"
TOKEN_URL = "https://www.kaggle.com/settings/api"

SIGN_IN_STEPS = f"""  1. Sign in at kaggle.com, open {RULES_URL} and accept its rules.
  2. Sign in the `kaggle` package, one way of: `kaggle auth login` (in a browser); an API token made at
     {TOKEN_URL}, exported as KAGGLE_API_TOKEN or saved as ~/.kaggle/access_token; a legacy
     ~/.kaggle/kaggle.json (chmod 600) or KAGGLE_USERNAME and KAGGLE_KEY (KAGGLE_CONFIG_DIR moves
     ~/.kaggle). On Colab, add KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY) as secrets (the key
     icon) with notebook access."""


class KaggleError(RuntimeError):
    """Something stops a Kaggle call before or while it is made; the message says what to do."""


class NoCredentials(KaggleError):
    """The `kaggle` package found no way to sign in."""


COLAB_SECRETS = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN")
COLAB_OWN_PROCESS = ("Colab gives its secrets only to the notebook's own process, not to a command the "
                     "notebook starts (`!python -m ...`): run the download in a cell, `from digit_recognizer "
                     "import download; download.kaggle_files()`, or export KAGGLE_API_TOKEN")


def load_colab_secrets(environ=None) -> list[str]:
    """On Colab, copy the Kaggle secrets this notebook may read (the key icon in the left bar) into the
    environment, where the `kaggle` package looks; returns the names copied (none off Colab, and none on
    Kaggle, whose image carries a google.colab that cannot answer). Colab answers only the notebook's own
    process; elsewhere its request times out, and a KaggleError says what to do instead."""
    if on_kaggle():
        return []
    try:
        from google.colab import userdata
    except ImportError:
        return []
    environ = os.environ if environ is None else environ
    timed_out = getattr(userdata, "TimeoutException", ())
    copied = []
    for name in COLAB_SECRETS:
        if environ.get(name):
            continue
        try:
            value = userdata.get(name)
        except timed_out:
            raise KaggleError(f"Colab's secret {name} could not be read: {COLAB_OWN_PROCESS}") from None
        except Exception:  # Colab's SecretNotFoundError or NotebookAccessError: this secret is not given
            continue
        if value:
            environ[name] = value
            copied.append(name)
    return copied


def kaggle_username(environ=None, home: Path | None = None) -> str | None:
    """KAGGLE_USERNAME, else the username in kaggle.json; None where neither gives one (offline: no call)."""
    environ = os.environ if environ is None else environ
    if environ.get("KAGGLE_USERNAME"):
        return environ["KAGGLE_USERNAME"]
    folder = Path(environ.get("KAGGLE_CONFIG_DIR") or (home or Path.home()) / ".kaggle")
    try:
        return json.loads((folder / "kaggle.json").read_text()).get("username") or None
    except (OSError, ValueError, AttributeError):
        return None


def kaggle_api_class():
    """KaggleApi, imported late and quietly: importing `kaggle` signs in and prints its own help."""
    with contextlib.redirect_stdout(io.StringIO()):
        from kaggle.api.kaggle_api_extended import KaggleApi
    return KaggleApi


def sign_in(action: str, make_api=None):
    """A KaggleApi signed in the first way the `kaggle` package finds; NoCredentials (with the steps) where
    it finds none, a KaggleError for a token Kaggle refused or no network. `action` ("sent", ...) says
    what did not happen."""
    load_colab_secrets()
    api = (make_api or kaggle_api_class())()
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            api.authenticate()
    except SystemExit:  # what the package does where no way to sign in worked
        raise no_sign_in(action, said.getvalue()) from None
    except Exception as error:
        raise refusal(error, action) from error
    return api


def no_sign_in(action: str, said: str) -> KaggleError:
    """Why authenticate() gave up: a token it found was refused, else none was found."""
    from kagglesdk import get_access_token_from_env

    _, source = get_access_token_from_env()
    if source:
        return KaggleError(f"Kaggle refused the access token in {source} (invalid or expired), so nothing "
                           f"was {action}: make a new one at {TOKEN_URL} or sign in with `kaggle auth login`")
    if "Invalid credentials" in said:  # the `kaggle auth login` sign-in, refused and deleted by the package
        return KaggleError(f"Kaggle refused the `kaggle auth login` sign-in (expired or revoked), so nothing "
                           f"was {action}: run `kaggle auth login` again")
    return NoCredentials(f"no Kaggle credentials found, so nothing was {action}. To set them up:\n"
                         f"{SIGN_IN_STEPS}")


def refusal(error: Exception, action: str, forbidden: str = "") -> KaggleError:
    """One line for what a call to Kaggle raised: the credentials refused (401), the competition's rules
    not accepted (403; `forbidden` replaces that remedy where a 403 means something else), no network."""
    import requests

    if isinstance(error, KaggleError):
        return error
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, requests.HTTPError) and status == 401:
        return KaggleError(f"Kaggle refused the credentials (401 Unauthorized), so nothing was {action}: "
                           f"the token is invalid, expired or revoked; make a new one at {TOKEN_URL} (or "
                           "run `kaggle auth login` again)")
    if isinstance(error, requests.HTTPError) and status == 403:
        remedy = forbidden or (f"accept the competition's rules at {RULES_URL}, signed in as the account "
                               "whose credentials these are, then try again")
        return KaggleError(f"Kaggle refused (403 Forbidden), so nothing was {action}: {remedy}")
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return KaggleError(f"Kaggle could not be reached (no network?), so nothing was {action}: check the "
                           f"connection and try again ({type(error).__name__})")
    if isinstance(error, requests.HTTPError):
        return KaggleError(f"Kaggle answered {status or 'an error'}, so nothing was {action}: {error}")
    return KaggleError(f"the Kaggle call failed, so nothing was {action}: {type(error).__name__}: {error}")
