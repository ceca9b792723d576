"""The search on record: which hyperparameters notebook 04 trains, read from what notebook 03 exported.

Notebook 03 (`tuning.export_results`) writes best_hyperparameters.json (what the confirmation adopted: a
candidate of the search, or the defaults) and search.json; training reads them here, so the training does
not depend on the search's code.
"""

from __future__ import annotations

from ..features import dataset_identity
from ..plumbing.files import RecordError, read_record
from ..plumbing.lineage import differences
from .model import value_problem

OBJECTIVE = "val_accuracy"  # what the search maximises; search.json records the best trial's


def search_on_record(paths, dataset_source: dict) -> tuple[dict | None, str]:
    """What notebook 04 trains: (the hyperparameters of the search on record for this prepared data set,
    where it came from), or (None, why the search space's defaults). A search made on other data is
    named, never used; best_hyperparameters.json must be the choice search.json records."""
    best_file, record_file = paths.best_hyperparameters_file, paths.search_summary_file
    if not best_file.is_file():
        return None, f"the search space's defaults: no search on record ({best_file} not found)"
    remedy = "run notebook 03 (`make tune`) again, or `make retune` to start a fresh search"
    record = read_record(record_file, remedy) if record_file.is_file() else {}
    made_from, expected = record.get("made_from"), dataset_identity(dataset_source)
    if made_from != expected:
        why = "it records no data set" if not isinstance(made_from, dict) else \
            f"its data set differs: {differences(made_from, expected)}"
        return None, (f"the search space's defaults: the search on record in {record_file} was made on "
                      f"another prepared data set ({why}); run notebook 03 (`make tune`) to search this one")
    confirmation = record.get("confirmation")
    if not isinstance(confirmation, dict) or not isinstance(confirmation.get("reason"), str):
        return None, (f"the search space's defaults: the search on record in {record_file} was never "
                      "confirmed at the final training's schedule; run notebook 03 (`make tune`) again")
    best = read_record(best_file, remedy)
    if problem := value_problem(best):
        raise RecordError(f"{best_file}: {problem}: {remedy}")
    if best != record.get("best_hyperparameters"):
        raise RecordError(f"{best_file} is not the choice {record_file} records: {remedy}")
    folder = (paths.tuning_dir / str(record.get("project"))).relative_to(paths.root)  # the same on re-runs
    return best, (f"the search in {folder} ({record.get('tuner')}, {record.get('trials')} trials), "
                  f"confirmed at {confirmation.get('epochs')} epochs: {confirmation['reason']}")
