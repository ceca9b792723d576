"""Kaggle faked at the boundary the installed `kaggle` package exposes: its KaggleApi methods (a call is
bound to the real method's signature, so an invented method or argument fails), its reply types from
kagglesdk, and the errors its HTTP client raises (requests.HTTPError carrying the response)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import requests
from kagglesdk.competitions.types.competition_api_service import ApiCreateSubmissionResponse, ApiSubmission
from kagglesdk.competitions.types.submission_status import SubmissionStatus
from kagglesdk.kernels.types.kernels_api_service import (
    ApiGetKernelSessionStatusResponse,
    ApiSaveKernelResponse,
)
from kagglesdk.kernels.types.kernels_enums import KernelWorkerStatus

from digit_recognizer.kaggle_api.credentials import kaggle_api_class

KaggleApi = kaggle_api_class()


def http_error(status: int) -> requests.HTTPError:
    """What kagglesdk's client raises for an error reply: raise_for_status's HTTPError with the response."""
    response = requests.Response()
    response.status_code, response.url = status, "https://api.kaggle.com/v1/some.Service/Call"
    return requests.HTTPError(f"{status} Client Error for url: {response.url}", response=response)


def no_network() -> requests.ConnectionError:
    return requests.ConnectionError("HTTPSConnectionPool(host='api.kaggle.com', port=443): Max retries")


def created(ref=1234, message="Successfully submitted") -> ApiCreateSubmissionResponse:
    reply = ApiCreateSubmissionResponse()
    reply.ref, reply.message = ref, message
    return reply


def submission(ref, description, status=SubmissionStatus.COMPLETE, public_score="", error=""):
    from datetime import datetime

    listed = ApiSubmission()
    listed.ref, listed.description, listed.status = ref, description, status
    listed.public_score, listed.error_description = public_score, error
    listed.date = datetime(2026, 12, 1, 9, 30)
    return listed


def kernel_status(status=KernelWorkerStatus.COMPLETE, failure="") -> ApiGetKernelSessionStatusResponse:
    reply = ApiGetKernelSessionStatusResponse()
    reply.status, reply.failure_message = status, failure
    return reply


def pushed(url="https://www.kaggle.com/code/me/digit-recognizer-pipeline", error="") -> ApiSaveKernelResponse:
    reply = ApiSaveKernelResponse()
    reply.url, reply.error = url, error
    return reply


class FakeKaggle:
    """A KaggleApi stand-in. `replies[name]` answers the method `name`: a reply object, an exception to
    raise, a list (one item per call, the last repeated) or a function of the call's arguments."""

    def __init__(self, **replies):
        self.replies, self.calls = replies, []

    def __getattr__(self, name):
        real = getattr(KaggleApi, name)  # AttributeError: the package has no such method

        def call(*args, **kwargs):
            arguments = inspect.signature(real).bind(self, *args, **kwargs).arguments
            arguments.pop("self")
            self.calls.append((name, dict(arguments)))
            reply = self.replies[name]
            if isinstance(reply, list):
                reply = reply.pop(0) if len(reply) > 1 else reply[0]
            if isinstance(reply, BaseException):
                raise reply
            return reply(**arguments) if callable(reply) else reply
        return call

    def called(self, name):
        return [arguments for called, arguments in self.calls if called == name]


class FakeClient:
    """kagglesdk's KaggleClient for the real KaggleApi: `services` maps "competitions.competition_api_client"
    and the like to objects answering its calls; used as the package uses it, a context manager."""

    def __init__(self, **services):
        for dotted, service in services.items():
            group, client = dotted.split("__")
            setattr(self, group, getattr(self, group, SimpleNamespace()))
            setattr(getattr(self, group), client, service)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


MANIFEST = {"profile": "full", "seed": 42, "git": {"commit": "abc1234def5678", "dirty": False},
            "training": {"hyperparameters_from": "the search space's defaults: no search on record"},
            "test_score": {"images": 18_000, "accuracy": 0.99123, "errors": 158}}


def finished_run(root):
    """An output root as a finished run leaves it: a valid 28,000-row submission and its manifest."""
    import json

    import numpy as np

    from digit_recognizer import config
    from digit_recognizer.plumbing.files import sha256
    from digit_recognizer.submission import make_submission

    paths = config.output_paths(root)
    make_submission(np.arange(28_000) % 10).to_csv(paths.submission_file, index=False)
    paths.models_dir.mkdir()
    manifest = MANIFEST | {"submission": {"rows": 28_000, "sha256": sha256(paths.submission_file)}}
    paths.manifest_file.write_text(json.dumps(manifest))
    return paths


def real_api(tmp_path, client=None):
    """The installed KaggleApi, its kaggle.json looked for in `tmp_path`, its HTTP client `client`."""
    api = type("IsolatedKaggleApi", (KaggleApi,), {"config": str(tmp_path / "kaggle.json")})()
    if client is not None:
        api.build_kaggle_client = lambda: client
    return api
