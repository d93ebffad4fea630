import os
import stat

import pytest

from hf_rudistill.atomic import atomic_directory, atomic_write_text


def test_a_failed_write_leaves_nothing_and_keeps_the_old_output(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / "half.txt").write_text("partial")
            raise RuntimeError("crash mid-way")
    assert list(tmp_path.iterdir()) == []

    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("first")
    with pytest.raises(FileExistsError, match="already exists"):
        with atomic_directory(target):
            pass
    with pytest.raises(RuntimeError):
        with atomic_directory(target, overwrite=True) as staging:
            (staging / "b.txt").write_text("second")
            raise RuntimeError("crash")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and (target / "a.txt").read_text() == "first"

    with atomic_directory(target, overwrite=True) as staging:
        (staging / "b.txt").write_text("second")
    assert [p.name for p in target.iterdir()] == ["b.txt"] and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_write_text_replaces_whole_files(tmp_path):
    path = tmp_path / "deep" / "report.json"
    atomic_write_text(path, "{}")
    atomic_write_text(path, '{"a": 1}')
    assert path.read_text() == '{"a": 1}' and [p.name for p in path.parent.iterdir()] == ["report.json"]


def test_outputs_get_the_usual_permissions_not_the_private_ones_of_temporary_paths(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "out") as staging:
            (staging / "a.txt").write_text("x")
        atomic_write_text(tmp_path / "card.md", "text")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "card.md").stat().st_mode) == 0o644
