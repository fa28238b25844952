"""Starts `rasa` with its HTTP API token read from the environment, so no secret is on a command line.

Run by .venv-rasa's Python (Rasa's own runtime), never imported by the app:

    .venv-rasa/bin/python bot/runtime/rasa_launcher.py run --enable-api --port 5005 ...

Rasa 3.6 takes its token only as `--auth-token`, and a process's arguments are world-readable
(/proc/<pid>/cmdline, `ps`). The token is therefore added to `sys.argv` inside this process only;
the kernel's copy of the command line never holds it. Standard library only: this file runs on
Python 3.10 next to Rasa.
"""

from __future__ import annotations

import os
import runpy
import sys

TOKEN_ENV = "ADVISOR_RASA__AUTH_TOKEN"


def main() -> None:
    """Append the token from the environment to Rasa's arguments and run Rasa's CLI in-process."""
    token = os.environ.pop(TOKEN_ENV, "")  # Rasa's own children need not inherit it
    if not token:
        sys.exit(f"rasa_launcher: {TOKEN_ENV} is not set")
    sys.argv = ["rasa", *sys.argv[1:], "--auth-token", token]
    runpy.run_module("rasa", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
