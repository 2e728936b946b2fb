"""The `monitor` command's entry point: a module that imports nothing at load time.

The console script imports this module. Parser processes come from a fork server, and
multiprocessing runs the parent's main script again in every new process (as `__mp_main__`),
so whatever the script imports at load time is imported anew in each of them: through
`monitor.cli` that was click, pydantic and the config models, some 0.1–0.3 s of CPU per
process that no parser job uses. Here the command line is imported only when it runs.
"""

from __future__ import annotations


def main() -> None:
    """Run the command line (`monitor.cli.main`)."""
    from monitor.cli import main as run

    run()
