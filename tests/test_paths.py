"""Atomic writes: a reader sees the old file or the new one, never a half-written one."""

import pytest

from xlmlab.paths import home, staged_directory, write_atomic


def test_home_is_xlmlab_home_or_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XLMLAB_HOME", str(tmp_path / "h"))
    assert home() == tmp_path / "h"
    monkeypatch.delenv("XLMLAB_HOME")
    assert home().parts[-2:] == (".cache", "xlmlab")


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "metrics.json"
    write_atomic(target, lambda tmp: open(tmp, "w").write("old"))

    def fails(tmp):
        open(tmp, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, fails)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_a_staged_directory_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "best"
    with staged_directory(target) as staging:
        (staging / "a").write_text("1")
        (staging / "b").write_text("1")
    with staged_directory(target) as staging:
        assert not target.joinpath("c").exists() and staging != target
        (staging / "c").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_a_failed_build_keeps_the_old_directory(tmp_path):
    target = tmp_path / "tiny-xlmr"
    with staged_directory(target) as staging:
        (staging / "config.json").write_text("{}")
    with pytest.raises(RuntimeError):
        with staged_directory(target) as staging:
            (staging / "config.json").write_text("half")
            raise RuntimeError("killed")
    assert (target / "config.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-xlmr"]
