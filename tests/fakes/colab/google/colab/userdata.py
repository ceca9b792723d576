"""A stand-in for `google.colab.userdata`, with Colab's names and behaviour: `get(key)` asks the Colab
page through the notebook kernel's own connection, so only the kernel's process gets an answer; any other
process (a `!python ...` command the notebook starts) waits in vain and gets TimeoutException. The secrets
are read from the JSON file $FAKE_COLAB_SECRETS: {"NAME": {"value": "...", "access": true}}."""

import json
import os


class NotebookAccessError(Exception):
    """The secret exists, but this notebook was not given access to it."""

    def __init__(self, key):
        super().__init__(f"Notebook does not have access to secret {key}")


class SecretNotFoundError(Exception):
    def __init__(self, key):
        super().__init__(f"Secret {key} does not exist.")


class TimeoutException(Exception):
    def __init__(self, key):
        super().__init__(f"Requesting secret {key} timed out. Secrets can only be fetched when running from "
                         "the Colab UI.")


def _in_the_kernels_own_process() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def get(key):
    if not _in_the_kernels_own_process():
        raise TimeoutException(key)
    with open(os.environ["FAKE_COLAB_SECRETS"]) as file:
        secrets = json.load(file)
    if key not in secrets:
        raise SecretNotFoundError(key)
    if not secrets[key].get("access"):
        raise NotebookAccessError(key)
    return secrets[key]["value"]
