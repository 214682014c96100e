"""`zoo data check PATH [--kind ...]`: print what a loader would see in a folder.

TensorFlow is never imported here, so the command answers in a second or two.
"""

from __future__ import annotations

from zoo.data.check import KINDS


def add_commands(subparsers) -> None:
    """Add the `data` command group (with its `check` action) to the zoo CLI.

    Args:
        subparsers: the object returned by ArgumentParser.add_subparsers().
    """
    data = subparsers.add_parser(
        "data", help="inspect data folders",
        description="Inspect the data folders that zoo's loaders read.")
    actions = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="report the images, classes or domains a loader would use",
        description="Scan a data folder and print counts per class, split or domain, the "
                    "files that would be skipped and why, and image size statistics. Nothing "
                    "is written to the folder. Exit status 0 when the folder is usable; 2 "
                    "(with the reason on stderr) when it is not.")
    check.add_argument("path", metavar="PATH",
                       help="a data folder, or an embedded set name such as 'digits'")
    check.add_argument("--kind", choices=KINDS, default=None,
                       help="the layout to read PATH as (default: detected from the "
                            "subfolder names)")
    check.add_argument("--max-listed", type=int, default=5, metavar="N",
                       help="how many skipped files to name (default 5; all are counted)")
    check.set_defaults(func=_cmd_check)


def _cmd_check(args) -> int:
    from zoo.data.check import check_folder

    report = check_folder(args.path, args.kind)
    print(report.format(max_listed=args.max_listed))
    return 0
