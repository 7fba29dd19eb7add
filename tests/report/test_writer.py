"""Output files: umask permissions, no temporary leftovers on any exit, report + metrics as a pair."""

import json
import os
import stat
import threading

import pytest

from fairlatent import report as writer
from fairlatent.exceptions import OutputError
from fairlatent.report import atomic_file, write_outputs


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


@pytest.fixture
def fake_render(monkeypatch):
    """Render a stand-in result: the report and metrics both carry the result's run id."""
    monkeypatch.setattr(
        "fairlatent.report.html.render_html", lambda result: f"<html>{result}</html>"
    )
    monkeypatch.setattr(
        "fairlatent.report.json_writer.result_to_json", lambda result: {"run": result}
    )


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def read_pair(directory):
    html = (directory / "report.html").read_text()
    metrics = json.loads((directory / "metrics.json").read_text())
    return html, metrics["run"]


def leftovers(parent):
    return [p.name for p in parent.rglob("*") if p.name.startswith(".")]


def test_outputs_honour_the_umask(tmp_path, umask_027, fake_render):
    out = tmp_path / "reports" / "run"
    write_outputs("a", out)
    assert mode(out) == 0o750
    assert mode(out / "report.html") == 0o640 and mode(out / "metrics.json") == 0o640
    os.umask(0o002)
    write_outputs("b", out)
    assert mode(out / "report.html") == 0o664 and mode(out / "metrics.json") == 0o664
    with atomic_file(tmp_path / "one.csv") as handle:
        handle.write("x\n")
    assert mode(tmp_path / "one.csv") == 0o664


def read_pair_at(directory):
    """Read both files through one handle on the directory, as a careful reader does."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        texts = []
        for name in ("report.html", "metrics.json"):
            handle = os.open(name, os.O_RDONLY, dir_fd=fd)
            try:
                texts.append(os.read(handle, 1000).decode())
            finally:
                os.close(handle)
        return texts[0], json.loads(texts[1])["run"]
    finally:
        os.close(fd)


def test_report_and_metrics_are_swapped_in_as_a_pair(tmp_path, fake_render):
    out = tmp_path / "run"
    write_outputs("first", out)
    assert read_pair(out) == ("<html>first</html>", "first")
    write_outputs("second", out)
    assert read_pair(out) == ("<html>second</html>", "second")
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html"]
    assert leftovers(tmp_path) == []


def test_a_reader_never_sees_a_pair_from_two_runs(tmp_path, fake_render):
    out = tmp_path / "run"
    write_outputs("run-0", out)
    seen, mixed, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                html, run = read_pair_at(out)
            except (FileNotFoundError, ValueError):
                continue  # the directory was swapped away while being read: read again
            seen.append(run)
            if html != f"<html>{run}</html>":
                mixed.append((html, run))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for number in range(1, 60):
            write_outputs(f"run-{number}", out)
    finally:
        stop.set()
        thread.join()
    assert mixed == []
    assert len(set(seen)) > 1, "the reader should have seen several runs"


def test_the_swap_also_works_without_an_atomic_exchange(tmp_path, fake_render, monkeypatch):
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    write_outputs("first", out)
    write_outputs("second", out)
    assert read_pair(out) == ("<html>second</html>", "second")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, writer.Terminated, OSError])
def test_an_interrupted_write_leaves_the_old_pair_and_no_temporary_files(
    tmp_path, fake_render, monkeypatch, error
):
    out = tmp_path / "run"
    write_outputs("first", out)
    real_write = type(out).write_text
    calls = []

    def flaky(path, text, **kwargs):
        calls.append(path.name)
        if len(calls) == 2:  # between the two files
            raise error(28, "No space left on device") if error is OSError else error()
        return real_write(path, text, **kwargs)

    monkeypatch.setattr(type(out), "write_text", flaky)
    with pytest.raises(OutputError if error is OSError else error):
        write_outputs("second", out)
    monkeypatch.undo()
    assert read_pair(out) == ("<html>first</html>", "first")
    assert leftovers(tmp_path) == []


def test_a_directory_with_other_files_is_updated_in_place(tmp_path, fake_render):
    out = tmp_path / "shared"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    write_outputs("first", out)
    write_outputs("second", out)
    assert (out / "notes.txt").read_text() == "mine"
    assert read_pair(out) == ("<html>second</html>", "second")
    assert leftovers(tmp_path) == []


def test_the_working_directory_is_never_swapped(tmp_path, fake_render, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_outputs("first", tmp_path)
    inode = tmp_path.stat().st_ino
    write_outputs("second", tmp_path)
    assert tmp_path.stat().st_ino == inode
    assert read_pair(tmp_path) == ("<html>second</html>", "second")


@pytest.mark.parametrize("error", [KeyboardInterrupt, writer.Terminated, ValueError])
def test_atomic_file_removes_its_temporary_file_on_any_exit(tmp_path, error):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(error), atomic_file(target) as handle:
        handle.write("half")
        raise error()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
