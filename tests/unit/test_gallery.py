"""The printing gallery: every document the repository can print lands as pictures and in the
index, and documents whose renderer has not landed yet are named instead of breaking the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from printing import gallery

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[gallery.Entry]]:
    out = tmp_path_factory.mktemp("gallery")
    return out, gallery.build(out)


def test_every_available_document_produced_its_pages(
    built: tuple[Path, list[gallery.Entry]],
) -> None:
    out, entries = built
    assert [e.document.slug for e in entries] == [d.slug for d in gallery.documents()]
    failed = [(e.document.slug, e.problem) for e in entries if e.problem.startswith("failed")]
    assert not failed, "a renderer changed shape: update its sample data in printing/gallery.py"
    available = [e for e in entries if e.available]
    for entry in available:
        assert entry.files, entry.document.slug
        for name in entry.files:
            assert (out / name).stat().st_size > 0, name
            if name.endswith(".png"):
                with Image.open(out / name) as image:
                    assert image.width >= 150, name
                    darkest, lightest = image.convert("L").getextrema()
                    assert darkest < 64 < lightest, f"{name} is blank"


def test_the_documents_of_this_repository_are_all_there(
    built: tuple[Path, list[gallery.Entry]],
) -> None:
    _, entries = built
    made = {e.document.slug: e.files for e in entries if e.available}
    assert made["packing-slip-a4"] == ("packing-slip-a4.png",)
    assert made["packing-slip-4x6"][0].endswith(".png")
    assert made["return-slip-a4"] == ("return-slip-a4.png",)
    assert made["pick-list-cluster"] == tuple(f"pick-list-cluster-p{n}.png" for n in (1, 2, 3))
    assert "pick-list-single" in made
    assert "return-slip-4x6" in made


def test_index_lists_every_document(built: tuple[Path, list[gallery.Entry]]) -> None:
    out, entries = built
    index = (out / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# Printed documents")
    for entry in entries:
        assert entry.document.title in index
        for name in entry.files:
            assert f"]({name})" in index
        if not entry.available:
            assert f"{entry.problem} (`{entry.document.module}" in index


def test_a_renderer_that_has_not_landed_is_listed_not_fatal(tmp_path: Path) -> None:
    missing = gallery.Document(
        "future-doc",
        "Future document",
        "Not written yet.",
        "printing.no_such_module",
        "render_future",
        lambda render: render(),
    )
    no_function = gallery.Document(
        "future-fn", "Future function", "Not yet.", "printing.text", "render_nothing", print
    )
    entries = gallery.build(tmp_path, [missing, no_function])
    assert [e.problem for e in entries] == ["not available yet", "not available yet"]
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert "**Future document** — not available yet (`printing.no_such_module.render_future`)" in (
        index
    )


def test_escpos_preview_keeps_the_words() -> None:
    job = (
        b"\x1b@\x1ba\x01\x1bE\x01Northwind\n\x1bE\x00"
        b"Total      9.99\n\x1dk\x49\x06{BR-12\x1dV\x42\x00\x1bp\x00\x19\xfa"
    )
    text = gallery.escpos_text(job)
    assert "Northwind\nTotal      9.99\n" in text
    assert "[barcode R-12]" in text
    assert "cut" in text
    assert "[cash drawer]" in text


def test_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "printing.gallery", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "index.md").exists()
    assert (tmp_path / "pick-list-single.png").exists()
