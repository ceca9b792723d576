"""Kaggle from the command line (the Makefile's submit, submissions and kaggle-* targets):

    python -m digit_recognizer.kaggle_api submit [--output-dir DIR] [--wait SECONDS]
    python -m digit_recognizer.kaggle_api submissions [--output-dir DIR]
    python -m digit_recognizer.kaggle_api kernel [--folder DIR] [--repo-url URL] [--ref REF] [--profile P]
    python -m digit_recognizer.kaggle_api push|status [--folder DIR]
    python -m digit_recognizer.kaggle_api output [--folder DIR] [--to DIR]

Nothing is sent before the local checks pass; a failure is one line saying what to do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import output_paths
from ..plumbing.files import RecordError
from ..profiles import DEFAULT_PROFILE, PROFILES
from . import competition, kernel
from .credentials import KaggleError, kaggle_username, sign_in


def kernel_owner() -> str | None:
    """The account the kernel's id names: KAGGLE_USERNAME or kaggle.json, else the signed-in account."""
    return kaggle_username() or sign_in("written").get_config_value("username")


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m digit_recognizer.kaggle_api", description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parse.add_subparsers(dest="command", required=True)
    send = commands.add_parser("submit", help="send submission.csv, wait for its public score, record it")
    send.add_argument("--output-dir", default="", help="root holding submission.csv and models/")
    send.add_argument("--wait", type=float, default=competition.DEFAULT_WAIT_S,
                      help="seconds to wait for the public score (0: do not wait)")
    listing = commands.add_parser("submissions", help="this competition's submissions and their runs")
    listing.add_argument("--output-dir", default="", help="root whose models/run.json marks its submission")
    write = commands.add_parser("kernel", help="write the Kaggle kernel folder")
    write.add_argument("--folder", default=str(kernel.DEFAULT_KERNEL_DIR))
    write.add_argument("--repo-url", default="", help="default: the git remote origin, as https")
    write.add_argument("--ref", default="", help="branch, tag or commit to check out; default: the default")
    write.add_argument("--profile", default=DEFAULT_PROFILE, help=f"one of {sorted(PROFILES)}")
    for name, text in [("push", "push the kernel folder to Kaggle, which runs it"),
                       ("status", "the pushed kernel's run status"),
                       ("output", "download the finished kernel's outputs")]:
        command = commands.add_parser(name, help=text)
        command.add_argument("--folder", default=str(kernel.DEFAULT_KERNEL_DIR))
        if name == "output":
            command.add_argument("--to", default=str(kernel.DEFAULT_OUTPUT_DIR), help="where the files go")
    return parse


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from ..submission import SubmissionError

    try:
        if args.command == "submit":
            competition.submit(output_paths(args.output_dir or None), wait_s=args.wait)
        elif args.command == "submissions":
            competition.show_submissions(output_paths(args.output_dir or None))
        elif args.command == "kernel":
            folder = Path(args.folder)
            written = kernel.write_kernel_folder(folder, args.repo_url or kernel.origin_url(), kernel_owner(),
                                                 args.profile, args.ref)
            print(f"wrote {', '.join(str(p) for p in written)}; push it with `make kaggle-push`")
        elif args.command == "push":
            kernel.push_kernel(Path(args.folder))
        elif args.command == "status":
            kernel.show_status(Path(args.folder))
        else:
            kernel.download_output(Path(args.folder), Path(args.to))
    except (KaggleError, SubmissionError, RecordError, OSError) as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
