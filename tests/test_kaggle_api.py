"""`make submit`, `make kaggle-kernel` and `make kaggle-push`, offline: Kaggle's API is a fake that records
what it is sent."""

import inspect
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import nbclient
import nbformat
import numpy as np
import pytest

from digit_recognizer import config, kaggle_api
from digit_recognizer.kaggle_api import KaggleError, kaggle_credentials_found
from digit_recognizer.plumbing.files import sha256
from digit_recognizer.submission import SubmissionError, make_submission


class FakeApi:
    def __init__(self, reply=None):
        self.calls, self.reply = [], reply or SimpleNamespace(message="Successfully submitted", error="",
                                                                url="https://www.kaggle.com/code/me/k")

    def competition_submit(self, file_name, message, competition, quiet=False):
        self.calls.append(("submit", file_name, message, competition))
        return self.reply

    def kernels_push(self, folder):
        self.calls.append(("push", folder))
        return self.reply


MANIFEST = {"profile": "full", "seed": 42, "git": {"commit": "abc1234def5678", "dirty": False},
            "training": {"hyperparameters_from": "the search space's defaults: no search on record"},
            "test_score": {"images": 18_000, "accuracy": 0.99123, "errors": 158}}


@pytest.fixture
def run_root(tmp_path):
    """An output root as a finished run leaves it: a valid 28,000-row submission and its manifest."""
    paths = config.output_paths(tmp_path)
    make_submission(np.arange(28_000) % 10).to_csv(paths.submission_file, index=False)
    paths.models_dir.mkdir()
    manifest = MANIFEST | {"submission": {"rows": 28_000, "sha256": sha256(paths.submission_file)}}
    paths.manifest_file.write_text(json.dumps(manifest))
    return paths


def test_submit_sends_the_file_with_a_message_from_the_manifest(run_root):
    api = FakeApi()
    message = kaggle_api.submit(run_root, api=api, credentials_found=True)
    expected = "digit-recognizer: profile full, seed 42, commit abc1234, local 0.9912 (18,000 labelled)"
    assert message == expected
    assert api.calls == [("submit", str(run_root.submission_file), expected, "digit-recognizer")]


def test_message_without_a_local_score_or_a_commit():
    manifest = {"profile": "fast", "seed": 7, "git": {"commit": "0123456789", "dirty": True},
                "test_score": None}
    assert kaggle_api.submission_message(manifest) == (
        "digit-recognizer: profile fast, seed 7, commit 0123456 with uncommitted changes")
    assert kaggle_api.submission_message({"profile": "full", "seed": 42, "git": {"commit": None}}) == (
        "digit-recognizer: profile full, seed 42, commit unknown")


def test_without_credentials_nothing_is_sent_and_the_steps_are_given(run_root, monkeypatch, capsys):
    api = FakeApi()
    with pytest.raises(KaggleError, match="no Kaggle credentials found, so nothing was sent") as caught:
        kaggle_api.submit(run_root, api=api, credentials_found=False)
    assert "kaggle.json" in str(caught.value) and "accept its rules" in str(caught.value)
    assert api.calls == []
    monkeypatch.setattr(kaggle_api, "kaggle_credentials_found", lambda: False)
    monkeypatch.setattr(kaggle_api, "authenticated_api", lambda: pytest.fail("must not sign in"))
    assert kaggle_api.main(["submit", "--output-dir", str(run_root.root)]) == 1
    assert capsys.readouterr().out.startswith("error: no Kaggle credentials found")


def another_runs_submission(paths):
    make_submission(np.arange(28_000) % 9).to_csv(paths.submission_file, index=False)  # valid, but new


# how the finished run's outputs are changed, the error and message submit refuses them with
SUBMIT_REFUSALS = {
    "invalid submission": (lambda paths: paths.submission_file.write_text("ImageId,Label\n1,3\n2,11\n"),
                           SubmissionError, r"submission\.csv: 2 rows, expected 28000"),
    "missing manifest": (lambda paths: paths.manifest_file.unlink(),
                         KaggleError, r"models/run\.json: not found.*make submission"),
    "submission from another run": (another_runs_submission,
                                    KaggleError, r"submission\.csv: not the file .*run\.json describes"),
}


@pytest.mark.parametrize(("change", "error", "message"), SUBMIT_REFUSALS.values(), ids=SUBMIT_REFUSALS.keys())
def test_a_submission_that_cannot_be_sent_is_refused_before_any_call(run_root, change, error, message):
    change(run_root)
    api = FakeApi()
    with pytest.raises(error, match=message):
        kaggle_api.submit(run_root, api=api, credentials_found=True)
    assert api.calls == []


def test_a_failed_upload_is_an_error(run_root):
    api = FakeApi(SimpleNamespace(message="Could not submit to competition"))
    with pytest.raises(KaggleError, match="upload of .*submission.csv failed"):
        kaggle_api.submit(run_root, api=api, credentials_found=True)


@pytest.mark.parametrize("remote, expected", [
    ("git@github.com:me/digits.git", "https://github.com/me/digits.git"),
    ("ssh://git@github.com:22/me/digits.git", "https://github.com/me/digits.git"),
    ("https://me:ghp_secret@github.com/me/digits.git", "https://github.com/me/digits.git"),
    ("https://gitlab.com/me/digits", "https://gitlab.com/me/digits"),
    ("https://git.example.org:8443/me/digits.git", "https://git.example.org:8443/me/digits.git"),
    ("http://me@git.example.org:8080/me/digits.git", "http://git.example.org:8080/me/digits.git"),
])
def test_repository_urls_become_https_without_credentials(remote, expected):
    assert kaggle_api.https_url(remote) == expected


@pytest.mark.parametrize("remote", ["/home/me/digits", "file:///home/me/digits", "../digits"])
def test_a_local_remote_cannot_be_cloned_on_kaggle(remote):
    with pytest.raises(KaggleError, match="not a repository URL that Kaggle can clone.*REPO_URL"):
        kaggle_api.https_url(remote)


def test_the_repository_url_defaults_to_the_origin_remote(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with pytest.raises(KaggleError, match="no git remote 'origin'.*REPO_URL="):
        kaggle_api.origin_url(tmp_path)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:me/digits.git"],
                   check=True)
    assert kaggle_api.origin_url(tmp_path) == "https://github.com/me/digits.git"


def test_kernel_folder_holds_the_run_on_kaggle_cells_and_metadata(tmp_path):
    folder = tmp_path / "kernel"
    written = kaggle_api.write_kernel_folder(folder, "git@github.com:me/digits.git", "me", "fast", "v1.0")
    assert sorted(p.name for p in written) == sorted(p.name for p in folder.iterdir()) == [
        "digit-recognizer-pipeline.ipynb", "kernel-metadata.json"]
    metadata = json.loads((folder / "kernel-metadata.json").read_text())
    assert metadata == {
        "id": "me/digit-recognizer-pipeline", "title": "Digit Recognizer Pipeline",
        "code_file": "digit-recognizer-pipeline.ipynb", "language": "python", "kernel_type": "notebook",
        "is_private": True, "enable_gpu": True, "enable_internet": True,
        "competition_sources": ["digit-recognizer"], "dataset_sources": [], "kernel_sources": []}
    notebook = nbformat.read(folder / metadata["code_file"], as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.source for cell in code] == kaggle_api.run_on_kaggle_cells(
        "https://github.com/me/digits.git", "fast", "v1.0")
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert ('subprocess.run(["git", "clone", "--quiet", "https://github.com/me/digits.git", '
            '"/tmp/digit-recognizer"], check=True)\n'
            'subprocess.run(["git", "-C", "/tmp/digit-recognizer", "checkout", "--quiet", "v1.0"], '
            'check=True)\n') in code[0].source
    assert 'runner.run_notebooks("--profile", "fast", "--output-dir", "/kaggle/working")' in code[1].source
    assert not [cell for cell in code if cell.source.lstrip().startswith("!")]  # `!` lines never fail


def execute(notebook, folder):
    """Run a notebook as Jupyter does, kernel started in `folder`; the error it stopped with, or None."""
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        return error
    return None


@pytest.mark.e2e
def test_a_kernel_whose_first_step_fails_fails_the_notebook(tmp_path):
    """The repository cannot be cloned (nothing listens on port 9): the clone cell raises, so the notebook
    fails and Kaggle would mark the version failed; nothing after it runs."""
    clone = tmp_path / "clone"
    working = tmp_path / "working"
    working.mkdir()
    cells = kaggle_api.run_on_kaggle_cells("https://127.0.0.1:9/me/digits.git", "smoke", "v1; touch x",
                                           clone_dir=str(clone), working_dir=str(working))
    notebook = nbformat.from_dict(kaggle_api.kernel_notebook(cells))
    error = execute(notebook, working)
    assert error is not None and "CalledProcessError" in str(error) and "exit status 128" in str(error)
    ran = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.execution_count]
    assert len(ran) == 1 and not clone.exists() and not any(working.iterdir())


def test_the_kernels_last_cell_says_where_the_submission_is_and_what_made_it(tmp_path, run_root):
    summary = kaggle_api.run_summary(run_root.root)
    assert summary.splitlines()[0] == f"submission: {run_root.submission_file}"
    assert "profile full, seed 42, commit abc1234" in summary
    assert "test accuracy 0.99123 on 18000 labelled digits" in summary
    assert "hyperparameters: the search space's defaults: no search on record" in summary
    empty = tmp_path / "empty"
    assert kaggle_api.run_summary(empty).startswith(f"no run record at {empty / 'models' / 'run.json'}")


def test_kernel_folder_needs_a_username_and_a_known_profile(tmp_path):
    with pytest.raises(KaggleError, match="no Kaggle username.*KAGGLE_USERNAME"):
        kaggle_api.write_kernel_folder(tmp_path / "k", "https://github.com/me/d.git", None)
    with pytest.raises(KaggleError, match="unknown profile 'huge'"):
        kaggle_api.write_kernel_folder(tmp_path / "k", "https://github.com/me/d.git", "me", "huge")
    assert not (tmp_path / "k").exists()


def test_username_from_environment_or_token_file(tmp_path):
    assert kaggle_api.kaggle_username({"KAGGLE_USERNAME": "env-me"}, home=tmp_path) == "env-me"
    assert kaggle_api.kaggle_username({}, home=tmp_path) is None
    (tmp_path / ".kaggle").mkdir()
    (tmp_path / ".kaggle" / "kaggle.json").write_text('{"username": "file-me", "key": "k"}')
    assert kaggle_api.kaggle_username({}, home=tmp_path) == "file-me"


def test_make_kaggle_kernel_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_USERNAME", "me")
    folder = tmp_path / "kernel"
    assert kaggle_api.main(["kernel", "--folder", str(folder), "--repo-url", "https://github.com/me/d.git",
                            "--profile", "smoke"]) == 0
    assert "make kaggle-push" in capsys.readouterr().out
    assert json.loads((folder / "kernel-metadata.json").read_text())["id"] == "me/digit-recognizer-pipeline"


def test_push_sends_the_folder(tmp_path):
    folder = tmp_path / "kernel"
    kaggle_api.write_kernel_folder(folder, "https://github.com/me/d.git", "me")
    api = FakeApi()
    assert kaggle_api.push_kernel(folder, api=api, credentials_found=True) == "https://www.kaggle.com/code/me/k"
    assert api.calls == [("push", str(folder))]


# whether the kernel folder is written, whether credentials are found, Kaggle's reply, the error's message
PUSH_REFUSALS = {
    "no kernel folder": (False, True, None, r"kernel-metadata\.json: not found.*make kaggle-kernel"),
    "no credentials": (True, False, None, "no Kaggle credentials found, so nothing was pushed"),
    "Kaggle refuses the kernel": (True, True, SimpleNamespace(error="Notebook not found", url=""),
                                  "refused the kernel .*Notebook not found"),
}


@pytest.mark.parametrize(("written", "credentials_found", "reply", "message"), PUSH_REFUSALS.values(),
                         ids=PUSH_REFUSALS.keys())
def test_a_push_that_cannot_be_sent_or_is_refused_is_an_error(tmp_path, written, credentials_found, reply,
                                                              message):
    folder = tmp_path / "kernel"
    if written:
        kaggle_api.write_kernel_folder(folder, "https://github.com/me/d.git", "me")
    api = FakeApi(reply)
    with pytest.raises(KaggleError, match=message):
        kaggle_api.push_kernel(folder, api=api, credentials_found=credentials_found)
    assert api.calls == ([("push", str(folder))] if reply else [])  # sent only where Kaggle answered


class RecordingClient:
    """Stands in for kagglesdk's client: keeps the save_kernel request instead of sending it."""

    def __init__(self):
        self.requests, self.kernels = [], SimpleNamespace(kernels_api_client=self)

    def save_kernel(self, request):
        self.requests.append(request)
        return SimpleNamespace(error="", url="https://www.kaggle.com/code/me/digit-recognizer-pipeline")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_installed_kaggle_package_accepts_the_folder_and_the_submit_call(tmp_path, run_root):
    """The real KaggleApi up to the network: its own checks of the metadata pass, and the request it
    builds carries the notebook, the competition, GPU and internet."""
    from kaggle.api.kaggle_api_extended import KaggleApi

    api, client = KaggleApi(), RecordingClient()
    api.build_kaggle_client = lambda: client
    folder = tmp_path / "kernel"
    kaggle_api.write_kernel_folder(folder, "https://github.com/me/d.git", "me", "smoke")
    url = kaggle_api.push_kernel(folder, api=api, credentials_found=True)
    assert url.endswith("/me/digit-recognizer-pipeline")
    (request,) = client.requests
    assert request.slug == "me/digit-recognizer-pipeline" and request.kernel_type == "notebook"
    assert request.enable_gpu and request.enable_internet and request.is_private
    assert request.competition_data_sources == ["digit-recognizer"]
    assert 'run_notebooks("--profile", "smoke"' in json.loads(request.text)["cells"][2]["source"]
    submit_call = inspect.signature(api.competition_submit)
    submit_call.bind(str(run_root.submission_file), "message", "digit-recognizer", quiet=False)


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


@pytest.mark.parametrize("secrets", [{"KAGGLE_USERNAME": "colab-user", "KAGGLE_KEY": "colab-key"}, {}],
                         ids=["secrets set", "no secrets"])
def test_colab_secrets_become_the_credentials_the_kaggle_package_reads(monkeypatch, tmp_path, secrets):
    fake_colab(monkeypatch, secrets)
    environ = {}
    assert kaggle_api.kaggle_credentials_found(environ, home=tmp_path) is bool(secrets)
    assert environ == secrets


FAKE_COLAB = Path(__file__).parent / "fakes" / "colab"  # google.colab.userdata as Colab has it
COLAB_CELLS = [
    # the credentials the notebook's own process finds: Colab's secrets
    "import os\nfrom digit_recognizer import kaggle_api\n\n"
    "print('found', kaggle_api.kaggle_credentials_found(), os.environ.get('KAGGLE_USERNAME'))",
    # what a command the notebook starts finds: Colab does not answer it
    "import subprocess, sys\n\n"
    "done = subprocess.run([sys.executable, '-c', 'from digit_recognizer import kaggle_api; "
    "kaggle_api.kaggle_credentials_found()'], capture_output=True, text=True, "
    "env={k: v for k, v in os.environ.items() if not k.startswith('KAGGLE_')})\n"
    "print(done.returncode, done.stderr.strip().splitlines()[-1])",
]


@pytest.mark.e2e
def test_colab_secrets_reach_the_notebooks_own_process_and_a_child_is_told_why_not(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"KAGGLE_USERNAME": {"value": "colab-user", "access": True},
                                   "KAGGLE_KEY": {"value": "colab-key", "access": True},
                                   "KAGGLE_API_TOKEN": {"value": "hidden", "access": False}}))
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR",
                 config.KAGGLE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kaggle
    monkeypatch.setenv("FAKE_COLAB_SECRETS", str(secrets))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(FAKE_COLAB),
                                                                   os.environ.get("PYTHONPATH")])))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in COLAB_CELLS])
    assert execute(notebook, tmp_path) is None
    own, child = ("".join(o.get("text", "") for o in cell.outputs).strip() for cell in notebook.cells)
    assert own == "found True colab-user"
    assert child.startswith("1 ") and "Colab's secret KAGGLE_USERNAME could not be read: Colab gives its " \
        "secrets only to the notebook's own process" in child and "download.kaggle_files()" in child


def test_the_readme_says_to_download_in_the_notebooks_own_process_on_colab():
    readme = (config.PROJECT_DIR / "README.md").read_text()
    colab = readme.split("## Run on Colab")[1].split("\n## ")[0]
    assert "download.kaggle_files()" in colab and "!python -m digit_recognizer.dataset.download" not in colab


def test_the_readme_quotes_the_kaggle_cells_the_kernel_folder_holds():
    readme = (config.PROJECT_DIR / "README.md").read_text()
    cells = kaggle_api.run_on_kaggle_cells("https://github.com/<you>/digit-recognizer.git", "full")
    assert "".join(f"```python\n{cell}\n```\n" for cell in cells) in readme


def test_credentials_from_environment_or_token_file(tmp_path):
    assert not kaggle_credentials_found({}, home=tmp_path)
    assert kaggle_credentials_found({"KAGGLE_USERNAME": "u", "KAGGLE_KEY": "k"}, home=tmp_path)
    assert kaggle_credentials_found({"KAGGLE_API_TOKEN": "t"}, home=tmp_path)
    assert not kaggle_credentials_found({"KAGGLE_USERNAME": "u"}, home=tmp_path)
    (tmp_path / ".kaggle").mkdir()
    (tmp_path / ".kaggle" / "kaggle.json").write_text("{}")
    assert kaggle_credentials_found({}, home=tmp_path)
