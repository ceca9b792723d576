"""One search on several machines, with Keras Tuner's own chief/worker mode.

    python -m digit_recognizer.distributed --role chief  --ip 0.0.0.0   --port 8000 [search options]
    python -m digit_recognizer.distributed --role worker --ip CHIEF_IP  --port 8000 [search options]

The chief hands out trials and, when the search is done, confirms its best at the final training's
schedule (`confirmation`), then writes trials.csv, best_hyperparameters.json and search.json; workers run
trials. Every process must see the same prepared data (notebook 02) and the same tuning folder (a shared
directory), and use the same profile, seed and search options.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from .config import output_paths
from .settings import add_options, from_options

# The settings a search process takes (the data set is the prepared one, notebook 02's).
SETTINGS = ("profile", "seed", "output_dir", "tuner", "max_epochs", "max_trials", "budget_minutes",
            "deterministic", "mixed_precision")


def set_tuner_environment(role: str, ip: str, port: int, worker_id: str = "") -> None:
    """Set the environment variables Keras Tuner reads when a tuner is created."""
    os.environ["KERASTUNER_TUNER_ID"] = "chief" if role == "chief" else (
        worker_id or f"worker-{socket.gethostname()}-{os.getpid()}")
    os.environ["KERASTUNER_ORACLE_IP"] = ip
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=["chief", "worker"], required=True)
    parser.add_argument("--ip", default="127.0.0.1", help="chief: address to listen on; worker: the chief's")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--worker-id", default="", help="a unique name per worker (default: host and pid)")
    add_options(parser, SETTINGS)
    args = parser.parse_args(argv)
    settings = from_options(parser, args, SETTINGS)

    set_tuner_environment(args.role, args.ip, args.port, args.worker_id)
    from .plumbing import runtime

    try:  # before the backend loads: one line for a backend not installed, its flags set before it starts
        setup = runtime.configure(settings.deterministic, settings.mixed_precision)
    except (runtime.BackendUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    from . import features
    from .modeling import confirmation, training, tuning  # the backend loads after the environment is set

    paths = output_paths(settings.output_dir or None)
    profile = settings.run_profile
    print(setup, flush=True)
    training.set_determinism(settings.seed)
    try:
        dataset = features.load_dataset(paths.dataset_file, {"profile": profile.name, "seed": settings.seed})
    except (OSError, ValueError) as error:  # missing, or prepared with other settings: one line
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    tuner = tuning.make_tuner(profile, paths.tuning_dir, settings.seed, dataset.source)
    print(f"{os.environ['KERASTUNER_TUNER_ID']}: {profile.tuner} search, oracle at {args.ip}:{args.port}",
          flush=True)
    summary = tuning.search(tuner, dataset, profile)
    if args.role == "chief":
        confirmed = confirmation.confirm(tuner, dataset, profile, settings.seed)
        table, best = tuning.export_results(tuner, paths, summary, dataset.source, confirmed)
        print(table.to_string(index=False))
        print(confirmation.table(confirmed).to_string(index=False))
        print(f"{confirmed['reason']}\nadopted hyperparameters -> {paths.best_hyperparameters_file}: {best}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
