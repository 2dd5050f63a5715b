"""``python -m distribu.web.compile FOLDER...``: compile page functions' templates ahead of time.

``make templates`` runs it for the storefront and the dashboard before ``sam build`` copies the
functions; see :mod:`distribu.web.templating`.
"""

from __future__ import annotations

import compileall
import sys
from pathlib import Path

from distribu.web.templating import compile_all


def main(folders: list[str]) -> None:
    for folder in folders:
        target = compile_all(Path(folder))
        compileall.compile_dir(str(target), quiet=1)
        print(f"compiled {len(list(target.glob('*.py')))} templates into {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
