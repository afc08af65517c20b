"""``python -m sfone`` and the ``sfone`` console script: the command line.

:func:`run` imports the CLI inside its own guard, so a Ctrl-C even while Python is still
importing ends with one line and exit status 130, never a raw traceback (``--debug`` keeps it).
"""

import sys


def run() -> None:
    try:
        from .cli import run as cli_run
    except KeyboardInterrupt:
        if "--debug" in sys.argv[1:]:
            raise
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    cli_run()


if __name__ == "__main__":
    run()
