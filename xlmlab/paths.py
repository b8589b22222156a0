"""Where xlmlab keeps what it builds, and how it writes files so that no reader sees half of one.

    home()                        $XLMLAB_HOME, by default ~/.cache/xlmlab: the embedded models,
                                  vocabulary builds and the XNLI sample outside a source checkout
    write_atomic(path, write)     `write(tmp)` fills a temporary file beside `path`, then one rename
                                  puts it in place
    staged_directory(target)      a context manager: fill the staging directory it gives you; when
                                  the block ends without an error it replaces `target` whole

A rename within one directory is atomic, so a process killed at any moment leaves either the old
file (or directory) or the new one, never a mixture. Whatever a killed writer left behind has a
name starting with "." and is removed by the next writer or ignored.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def home() -> Path:
    """xlmlab's cache directory: `$XLMLAB_HOME`, default `~/.cache/xlmlab`."""
    return Path(os.environ.get("XLMLAB_HOME", "~/.cache/xlmlab")).expanduser()


def write_atomic(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Write `path` through `write(temporary_path)` and one rename; nothing is left on failure.

    write_atomic(out / "metrics.json", lambda tmp: Path(tmp).write_text(text))
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def replace_directory(staging: Path, target: Path) -> None:
    """Put the finished directory `staging` in place of `target` (which may exist)."""
    if not target.exists():
        os.replace(staging, target)
        return
    # a directory cannot be renamed over a non-empty one: move the old one aside first
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_directory(target: str | os.PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name beside `target`; on success it becomes `target`.

    with staged_directory(home() / "models" / "tiny-xlmr") as staging:
        save_model(model, staging)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        yield staging
        replace_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
