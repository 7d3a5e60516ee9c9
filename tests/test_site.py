"""Build the whole site (quick profile) and check every chapter page as a reader would get it.

The site build executes every chapter once (papermill stops it at the first error), so these tests
are also the chapters' tests; the cheap ones here read the notebooks as committed."""
import re
from pathlib import Path

import nbformat
import pytest

from ipbook.site.build import build_book, chapters, CODE_WIDTH, rerun_comment, show_parameters_in_effect


REPO = Path(__file__).resolve().parents[1]


def test_toc_chapters_exist_in_reading_order():
    pages = chapters()
    assert str(pages[0]) == "book/intro.ipynb"
    assert all(p.suffix in (".md", ".ipynb") for p in pages)
    assert any("appendix_a1" in str(p) for p in pages)


def test_parameters_cell_shows_the_values_in_effect():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('# Re-run this chapter: papermill book/x.ipynb /tmp/x.ipynb -p profile paper\n'
                                  '# profile: which runs\nprofile = "quick"\ntol = 0.05',
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('# Parameters\nprofile = "paper"\n', metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(profile)")])
    show_parameters_in_effect(nb, Path("book/x.ipynb"), {"profile": "paper"})
    assert len(nb.cells) == 2
    assert nb.cells[0].source.splitlines() == [
        "# Re-run this chapter: papermill book/x.ipynb /tmp/out.ipynb -p profile paper",
        "# profile: which runs", "profile = 'paper'", "tol = 0.05"]


def test_the_rerun_comment_fits_the_code_cell():
    short = "papermill book/x.ipynb /tmp/out.ipynb -p profile paper"
    assert rerun_comment(short) == f"# Re-run this chapter: {short}"
    long = "papermill book/sensitivity_verdicts.ipynb /tmp/out.ipynb -p profile paper -p dataset fashion-mnist"
    lines = rerun_comment(long).splitlines()
    assert lines == ["# Re-run this chapter:", "#   papermill book/sensitivity_verdicts.ipynb /tmp/out.ipynb -p profile paper",
                     "#     -p dataset fashion-mnist"]
    assert all(len(line) <= CODE_WIDTH for line in lines)


def test_every_parameters_cell_fits_the_code_cell():
    for page in chapters():
        if page.suffix == ".ipynb":
            cell = next(c for c in nbformat.read(page, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
            # the re-run line is rewritten by the build (rerun_comment); the rest must fit as written
            assert all(len(line) <= CODE_WIDTH for line in cell.source.splitlines()[1:]), page


def test_every_notebook_hides_its_code_but_the_parameters():
    for page in chapters():
        if page.suffix != ".ipynb":
            continue
        nb = nbformat.read(page, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            tags = set(cell.metadata.get("tags", []))
            if "parameters" in tags:
                assert cell.source.startswith("# Re-run this chapter: papermill "), page
            elif "example" in tags:      # code shown on purpose: the recorder's example is the page's point
                assert "measure_your_own" in str(page), (page, "only the recorder's page shows code")
            else:
                assert tags & {"hide-input", "remove-input", "hide-cell", "remove-cell"}, (page, cell.source[:60])
            assert not cell.get("outputs"), f"{page}: committed with outputs"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_book("quick", "fashion-mnist", out=tmp_path_factory.mktemp("site"), progress=False)


#: Pages that state the book's answer in tables (the home page and the Conclusions).
TABLE_PAGES = {"intro", "conclusions"}


@pytest.mark.slow
def test_every_chapter_page_is_built_with_figures_and_no_traceback(site):
    for page in chapters():
        html = (site / page.with_suffix(".html")).read_text()
        assert "Traceback (most recent call last)" not in html, page
        if page.suffix == ".ipynb":
            if page.stem in TABLE_PAGES:     # the answer: tables, no figure
                assert "<table" in html, f"{page}: no table"
            else:
                assert re.search(r"<img[^>]+src=\"[^\"]*\.(png|svg)", html), f"{page}: no figure"
            # one parameters cell, visible; the rest of the code one click away
            assert html.count("tag_parameters") == 1 and "tag_injected-parameters" not in html, page
            assert "tag_hide-input" in html, page
            # the paper's own figure labels, no Sphinx numbering ("Fig. 5" for Figure A1)
            assert not re.search(r"Fig\. \d+</span>", html), page


@pytest.mark.slow
def test_pages_say_what_they_were_built_with(site):
    intro = (site / "book" / "intro.html").read_text()
    assert "quick</strong> profile on" in intro and "fashion-mnist" in intro
    text = " ".join(re.sub(r"<[^>]+>", "", intro).replace("&#160;", " ").split())
    assert "by python -m ipbook book --profile quick --dataset fashion-mnist." in text    # not "–profile"
    assert "What this book finds" in intro and "Fashion-MNIST" in intro and "MNIST" in intro
    assert "2021–2026" in intro
    summary = (site / "book" / "summary.html").read_text()
    for column in ("Claim", "Figure", "Measured", "Threshold", "Verdict", "Seeds"):
        assert f">{column}</th>" in summary, column
    assert "dI_raw" not in summary


@pytest.mark.slow
def test_site_loads_nothing_from_the_internet(site):
    for html in site.rglob("*.html"):
        text = html.read_text()
        assert not re.search(r"<script[^>]+src=\"(https?:)?//", text), html
        assert not re.search(r"<link[^>]+href=\"(https?:)?//[^\"]+\"[^>]*stylesheet|<link[^>]+stylesheet[^>]+href=\"(https?:)?//", text), html
    assert list(site.rglob("mathjax/**/tex-chtml*.js")) or list(site.rglob("*mathjax*")), "no local MathJax"


@pytest.mark.slow
def test_every_executed_chapter_has_no_error_and_nothing_on_stderr(site):
    """What nbval checked, on the notebooks the site build executed (``_build/stage/<profile>-<datasets>/``):
    no cell raised, and no cell wrote to stderr (a warning there is a defect a reader would see)."""
    stage = REPO / "_build" / "stage" / "quick-fashion-mnist"
    executed = [stage / page for page in chapters() if page.suffix == ".ipynb"]
    assert executed and all(p.exists() for p in executed), [str(p) for p in executed if not p.exists()]
    for path in executed:
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error", f"{path.name}: {out.get('ename')}: {out.get('evalue')}"
                assert out.get("name") != "stderr", f"{path.name}: stderr: {out.get('text', '')[:200]}"
