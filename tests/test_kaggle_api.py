"""`make kaggle-kernel`, `make kaggle-push`, `make kaggle-status` and `make kaggle-output`, offline: Kaggle
is faked at the installed `kaggle` package's boundary (tests/kaggle_fakes.py)."""

import json
import subprocess

import nbclient
import nbformat
import pytest
import requests
from kagglesdk.kernels.types.kernels_api_service import (
    ApiKernelSessionOutputFile,
    ApiListKernelSessionOutputResponse,
)
from kagglesdk.kernels.types.kernels_enums import KernelWorkerStatus

from digit_recognizer import config
from digit_recognizer.kaggle_api import kernel
from digit_recognizer.kaggle_api.__main__ import main
from digit_recognizer.kaggle_api.credentials import KaggleError
from tests.kaggle_fakes import (
    FakeClient,
    FakeKaggle,
    finished_run,
    http_error,
    kernel_status,
    no_network,
    pushed,
    real_api,
)


@pytest.fixture
def run_root(tmp_path):
    return finished_run(tmp_path)


@pytest.mark.parametrize("remote, expected", [
    ("git@github.com:me/digits.git", "https://github.com/me/digits.git"),
    ("ssh://git@github.com:22/me/digits.git", "https://github.com/me/digits.git"),
    ("https://me:ghp_secret@github.com/me/digits.git", "https://github.com/me/digits.git"),
    ("https://gitlab.com/me/digits", "https://gitlab.com/me/digits"),
    ("https://git.example.org:8443/me/digits.git", "https://git.example.org:8443/me/digits.git"),
    ("http://me@git.example.org:8080/me/digits.git", "http://git.example.org:8080/me/digits.git"),
])
def test_repository_urls_become_https_without_credentials(remote, expected):
    assert kernel.https_url(remote) == expected


@pytest.mark.parametrize("remote", ["/home/me/digits", "file:///home/me/digits", "../digits"])
def test_a_local_remote_cannot_be_cloned_on_kaggle(remote):
    with pytest.raises(KaggleError, match="not a repository URL that Kaggle can clone.*REPO_URL"):
        kernel.https_url(remote)


def test_the_repository_url_defaults_to_the_origin_remote(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with pytest.raises(KaggleError, match="no git remote 'origin'.*REPO_URL="):
        kernel.origin_url(tmp_path)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:me/digits.git"],
                   check=True)
    assert kernel.origin_url(tmp_path) == "https://github.com/me/digits.git"


def test_kernel_folder_holds_the_run_on_kaggle_cells_and_metadata(tmp_path):
    folder = tmp_path / "kernel"
    written = kernel.write_kernel_folder(folder, "git@github.com:me/digits.git", "me", "fast", "v1.0")
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
    assert [cell.source for cell in code] == kernel.run_on_kaggle_cells(
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
    cells = kernel.run_on_kaggle_cells("https://127.0.0.1:9/me/digits.git", "smoke", "v1; touch x",
                                           clone_dir=str(clone), working_dir=str(working))
    notebook = nbformat.from_dict(kernel.kernel_notebook(cells))
    error = execute(notebook, working)
    assert error is not None and "CalledProcessError" in str(error) and "exit status 128" in str(error)
    ran = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.execution_count]
    assert len(ran) == 1 and not clone.exists() and not any(working.iterdir())


def test_the_kernels_last_cell_says_where_the_submission_is_and_what_made_it(tmp_path, run_root):
    summary = kernel.run_summary(run_root.root)
    assert summary.splitlines()[0] == f"submission: {run_root.submission_file}"
    assert "profile full, seed 42, commit abc1234" in summary
    assert "test accuracy 0.99123 on 18000 labelled digits" in summary
    assert "hyperparameters: the search space's defaults: no search on record" in summary
    empty = tmp_path / "empty"
    assert kernel.run_summary(empty).startswith(f"no run record at {empty / 'models' / 'run.json'}")


def test_kernel_folder_needs_a_username_and_a_known_profile(tmp_path):
    with pytest.raises(KaggleError, match="no Kaggle username.*KAGGLE_USERNAME"):
        kernel.write_kernel_folder(tmp_path / "k", "https://github.com/me/d.git", None)
    with pytest.raises(KaggleError, match="unknown profile 'huge'"):
        kernel.write_kernel_folder(tmp_path / "k", "https://github.com/me/d.git", "me", "huge")
    assert not (tmp_path / "k").exists()


def test_make_kaggle_kernel_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_USERNAME", "me")
    folder = tmp_path / "kernel"
    assert main(["kernel", "--folder", str(folder), "--repo-url", "https://github.com/me/d.git",
                            "--profile", "smoke"]) == 0
    assert "make kaggle-push" in capsys.readouterr().out
    assert json.loads((folder / "kernel-metadata.json").read_text())["id"] == "me/digit-recognizer-pipeline"


def test_push_sends_the_folder(tmp_path):
    folder = tmp_path / "kernel"
    kernel.write_kernel_folder(folder, "https://github.com/me/d.git", "me")
    api = FakeKaggle(kernels_push=pushed("https://www.kaggle.com/code/me/k"))
    assert kernel.push_kernel(folder, api=api) == "https://www.kaggle.com/code/me/k"
    assert api.called("kernels_push") == [{"folder": str(folder)}]


# whether the kernel folder is written, Kaggle's reply, the error's message
PUSH_REFUSALS = {
    "no kernel folder": (False, None, r"kernel-metadata\.json: not found.*make kaggle-kernel"),
    "Kaggle refuses the kernel": (True, pushed(url="", error="Notebook not found"),
                                  "refused the kernel .*Notebook not found"),
    "bad token": (True, http_error(401), r"401 Unauthorized.*nothing was pushed.*settings/api"),
    "no network": (True, no_network(), r"could not be reached \(no network\?\), so nothing was pushed"),
}


@pytest.mark.parametrize(("written", "reply", "message"), PUSH_REFUSALS.values(), ids=PUSH_REFUSALS.keys())
def test_a_push_that_cannot_be_sent_or_is_refused_is_an_error(tmp_path, written, reply, message):
    folder = tmp_path / "kernel"
    if written:
        kernel.write_kernel_folder(folder, "https://github.com/me/d.git", "me")
    api = FakeKaggle(kernels_push=reply)
    with pytest.raises(KaggleError, match=message):
        kernel.push_kernel(folder, api=api)
    assert len(api.called("kernels_push")) == (1 if written else 0)  # sent only with a folder


def test_the_installed_kaggle_package_accepts_the_folder(tmp_path):
    """The real KaggleApi up to the network: its own checks of the metadata pass, and the request it
    builds carries the notebook, the competition, GPU and internet."""
    requests_sent = []

    def save_kernel(request):
        requests_sent.append(request)
        return pushed()

    api = real_api(tmp_path, FakeClient(kernels__kernels_api_client=type("K", (), {
        "save_kernel": staticmethod(save_kernel)})()))
    folder = tmp_path / "kernel"
    kernel.write_kernel_folder(folder, "https://github.com/me/d.git", "me", "smoke")
    assert kernel.push_kernel(folder, api=api).endswith("/me/digit-recognizer-pipeline")
    (request,) = requests_sent
    assert request.slug == "me/digit-recognizer-pipeline" and request.kernel_type == "notebook"
    assert request.enable_gpu and request.enable_internet and request.is_private
    assert request.competition_data_sources == ["digit-recognizer"]
    assert 'run_notebooks("--profile", "smoke"' in json.loads(request.text)["cells"][2]["source"]


@pytest.fixture
def kernel_folder(tmp_path):
    folder = tmp_path / "kernel"
    kernel.write_kernel_folder(folder, "https://github.com/me/d.git", "me")
    return folder


@pytest.mark.parametrize("status, failure, expected", [
    (KernelWorkerStatus.RUNNING, "", "me/digit-recognizer-pipeline: running"),
    (KernelWorkerStatus.COMPLETE, "", "me/digit-recognizer-pipeline: complete; `make kaggle-output` brings"),
    (KernelWorkerStatus.ERROR, "CalledProcessError in cell 1",
     "me/digit-recognizer-pipeline: error: its log comes back with `make kaggle-output`\n"
     "Kaggle says: CalledProcessError in cell 1"),
])
def test_kaggle_status_says_how_the_pushed_kernel_runs(kernel_folder, status, failure, expected):
    api = FakeKaggle(kernels_status=kernel_status(status, failure))
    assert kernel.show_status(kernel_folder, api=api).startswith(expected)
    assert api.called("kernels_status") == [{"kernel": "me/digit-recognizer-pipeline"}]


def test_a_kernel_these_credentials_cannot_see_is_one_clear_error(tmp_path, kernel_folder):
    """The package turns a 403 on a kernel into a ValueError of its own; the real path, faked below it."""
    class Kernels:
        def get_kernel_session_status(self, request):
            assert (request.user_name, request.kernel_slug) == ("me", "digit-recognizer-pipeline")
            raise http_error(403)

    api = real_api(tmp_path, FakeClient(kernels__kernels_api_client=Kernels()))
    with pytest.raises(KaggleError, match="shows no kernel me/digit-recognizer-pipeline: .*make kaggle-push"):
        kernel.show_status(kernel_folder, api=api)


def kaggle_outputs(kernel, path, **_):
    """What the package's kernels_output leaves: the output files under `path`, the log beside them."""
    files = {"submission.csv": "ImageId,Label\n1,7\n", "models/run.json": "{}\n",
             "reports/05_submit.ipynb": "{}", "digit-recognizer-pipeline.log": "log"}
    for name, text in files.items():
        (config.Path(path) / name).parent.mkdir(parents=True, exist_ok=True)
        (config.Path(path) / name).write_text(text)
    return [str(config.Path(path) / name) for name in files], None


def test_kaggle_output_brings_the_finished_kernels_files_into_the_folder(kernel_folder, tmp_path, capsys):
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine")
    (destination / "submission.csv").write_text("an older download")
    api = FakeKaggle(kernels_status=kernel_status(), kernels_output=kaggle_outputs)
    written = kernel.download_output(kernel_folder, destination, api=api)
    assert sorted(str(p.relative_to(destination)) for p in written) == [
        "digit-recognizer-pipeline.log", "models/run.json", "reports/05_submit.ipynb", "submission.csv"]
    assert (destination / "submission.csv").read_text() == "ImageId,Label\n1,7\n"
    assert (destination / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernel", "out"]  # the temp folder is gone
    assert "make submit SUBMIT_DIR=" in capsys.readouterr().out
    (arguments,) = api.called("kernels_output")
    assert arguments["kernel"] == "me/digit-recognizer-pipeline" and arguments["force"] is True


def test_kaggle_output_through_the_installed_package(kernel_folder, tmp_path, monkeypatch):
    """The real kernels_output: the listing from the (fake) client, each file fetched by its URL."""
    class Kernels:
        def get_kernel_session_status(self, request):
            return kernel_status()

        def list_kernel_session_output(self, request):
            reply = ApiListKernelSessionOutputResponse()
            listed = ApiKernelSessionOutputFile()
            listed.url, listed.file_name = "https://storage.example/submission.csv", "submission.csv"
            reply.files, reply.log = [listed], "the run's log"
            return reply

    fetched = type("Response", (), {"content": b"ImageId,Label\n"})()
    monkeypatch.setattr(requests, "get", lambda url, stream: fetched)
    api = real_api(tmp_path, FakeClient(kernels__kernels_api_client=Kernels()))
    kernel.download_output(kernel_folder, tmp_path / "out", api=api)
    assert (tmp_path / "out" / "submission.csv").read_bytes() == b"ImageId,Label\n"
    assert (tmp_path / "out" / "digit-recognizer-pipeline.log").read_text() == "the run's log"


def test_a_failed_output_download_changes_nothing(kernel_folder, tmp_path):
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "submission.csv").write_text("earlier")

    def half_then_offline(kernel, path, **_):
        (config.Path(path) / "submission.csv").write_text("half")
        raise no_network()

    api = FakeKaggle(kernels_status=kernel_status(), kernels_output=half_then_offline)
    with pytest.raises(KaggleError, match="could not be reached.*nothing was downloaded"):
        kernel.download_output(kernel_folder, destination, api=api)
    assert [(p.name, p.read_text()) for p in destination.iterdir()] == [("submission.csv", "earlier")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernel", "out"]


def test_kaggle_output_waits_for_the_run_to_end(kernel_folder, tmp_path):
    api = FakeKaggle(kernels_status=kernel_status(KernelWorkerStatus.RUNNING), kernels_output=kaggle_outputs)
    with pytest.raises(KaggleError, match="is running: its outputs come once it ends"):
        kernel.download_output(kernel_folder, tmp_path / "out", api=api)
    assert api.called("kernels_output") == [] and not (tmp_path / "out").exists()


def test_status_and_output_commands(kernel_folder, tmp_path, monkeypatch, capsys):
    api = FakeKaggle(kernels_status=kernel_status(), kernels_output=kaggle_outputs)
    monkeypatch.setattr(kernel, "sign_in", lambda action: api)
    assert main(["status", "--folder", str(kernel_folder)]) == 0
    assert main(["output", "--folder", str(kernel_folder), "--to", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "me/digit-recognizer-pipeline: complete" in out
    assert "4 files of me/digit-recognizer-pipeline (complete)" in out
    assert main(["status", "--folder", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().out.startswith("error: ")


def test_the_readme_quotes_the_kaggle_cells_the_kernel_folder_holds():
    readme = (config.PROJECT_DIR / "README.md").read_text()
    cells = kernel.run_on_kaggle_cells("https://github.com/<you>/digit-recognizer.git", "full")
    assert "".join(f"```python\n{cell}\n```\n" for cell in cells) in readme
