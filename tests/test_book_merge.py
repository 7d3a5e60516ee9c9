"""One site, both datasets: a chapter executed once per dataset becomes one page with a tab each."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ipbook.site.dataset_tabs import merge_datasets


def _executed(dataset: str, value: float) -> nbformat.NotebookNode:
    """A chapter as papermill leaves it: a parameters cell, a hidden cell with glue outputs, markdown."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                            "language_info": {"name": "python"}})
    params = nbformat.v4.new_code_cell(f"profile = 'quick'\ndataset = {dataset!r}", metadata={"tags": ["parameters"]})
    glue_out = nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": repr(value)},
                                      metadata={"scrapbook": {"mime_prefix": "application/papermill.record/",
                                                              "name": "gap"}})
    code = nbformat.v4.new_code_cell("glue('gap', gap, display=False)", metadata={"tags": ["hide-input"]})
    code.outputs = [glue_out]
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nNarrative that holds for both datasets."), params, code,
                nbformat.v4.new_markdown_cell("## Findings\n\n```{glue:figure} gap\n:name: tab-gap\n\nThe gap.\n```\n\n"
                                              "The gap is {glue:text}`gap:.2f` bits ({numref}`tab-gap`).\n\n## After\n\nPlain.")]
    return nb


def test_merged_page_has_one_tab_per_dataset_with_its_own_glue_keys():
    merged = merge_datasets({"mnist": _executed("mnist", 1.5), "fashion-mnist": _executed("fashion-mnist", 2.5)})
    kinds = [(c.cell_type, c.metadata.get("tags", [])) for c in merged.cells]
    # the parameters cell once; the hidden cell once per dataset; markdown once, tabs inside
    assert kinds == [("markdown", []), ("code", ["parameters"]), ("code", ["hide-input"]), ("code", ["remove-input"]),
                     ("markdown", [])]         # the code shown once; the second copy carries its outputs
    assert "one tab each" in merged.cells[1].source
    names = [o.metadata["scrapbook"]["name"] for c in merged.cells[2:4] for o in c.outputs]
    assert names == ["gap__mnist", "gap__fashion-mnist"]
    findings = merged.cells[4].source
    assert findings.startswith("## Findings") and "## After\n\nPlain." in findings     # headings outside tabs
    assert findings.count("{tab-item}") == 2 and ":sync: mnist" in findings
    for d in ("mnist", "fashion-mnist"):
        assert f"{{glue:figure}} gap__{d}" in findings and f"{{glue:text}}`gap__{d}:.2f`" in findings
        assert f":name: tab-gap__{d}" in findings and f"{{numref}}`tab-gap__{d}`" in findings
    assert merged.cells[0].source == "# A chapter\n\nNarrative that holds for both datasets."


def test_notebooks_of_different_chapters_are_refused():
    other = _executed("mnist", 1.0)
    other.cells[2].source = "something else"
    with pytest.raises(ValueError, match="differ in their cells"):
        merge_datasets({"mnist": other, "fashion-mnist": _executed("fashion-mnist", 2.0)})


@pytest.mark.slow
def test_a_merged_page_builds_with_jupyter_book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: 'off'\nparse:\n  myst_enable_extensions:"
                                      "\n    - colon_fence\nsphinx:\n  config:\n    numfig: false\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n")
    (book / "intro.md").write_text("# Intro\n")
    merged = merge_datasets({"mnist": _with_shown("mnist", 1.5), "fashion-mnist": _with_shown("fashion-mnist", 2.5)})
    nbformat.write(merged, book / "chapter.ipynb")
    exe = shutil.which("jupyter-book") or str(Path(sys.executable).with_name("jupyter-book"))
    subprocess.run([exe, "build", str(book), "--warningiserror", "--keep-going", "-q"], check=True,
                   capture_output=True)
    html = (book / "_build" / "html" / "chapter.html").read_text()
    assert "Fashion-MNIST" in html
    assert re.search(r"1\.50</span>.*2\.50</span>", html, re.S)      # each tab its own number
    assert html.count('class="sd-tab-label"') == 2 + 2 and re.search(r"Seeds of mnist\..*Seeds of fashion-mnist\.", html, re.S)


def _with_shown(dataset, value=1.0):
    """A chapter with a ``remove-input`` cell that displays markdown (as the summary's seeds note)."""
    nb = _executed(dataset, value)
    shown = nbformat.v4.new_code_cell("display(Markdown(note))", metadata={"tags": ["remove-input"]})
    shown.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": f"Seeds of {dataset}.",
                                                                   "text/plain": "<Markdown>"})]
    nb.cells.insert(3, shown)
    return nb


def test_what_a_remove_input_cell_shows_goes_into_the_tabs():
    executed = _with_shown
    merged = merge_datasets({"mnist": executed("mnist"), "fashion-mnist": executed("fashion-mnist")})
    hidden = [c for c in merged.cells if "remove-input" in c.metadata.get("tags", [])
              and c.source.startswith("display(")]
    assert [o.metadata["scrapbook"]["name"] for c in hidden for o in c.outputs] == ["shown_3_0__mnist",
                                                                                    "shown_3_0__fashion-mnist"]
    assert hidden[0].outputs[0].data["application/papermill.record/text/markdown"] == "Seeds of mnist."
    tabs = merged.cells[merged.cells.index(hidden[1]) + 1].source
    assert tabs.count("{tab-item}") == 2 and "{glue:md} shown_3_0__fashion-mnist" in tabs


def test_merged_cells_have_unique_ids():
    merged = merge_datasets({"mnist": _with_shown("mnist"), "fashion-mnist": _with_shown("fashion-mnist")})
    ids = [c.id for c in merged.cells]
    assert len(set(ids)) == len(ids)
    nbformat.validate(merged)


def test_a_block_whose_values_agree_is_shown_once_without_tabs():
    merged = merge_datasets({"mnist": _executed("mnist", 2.0), "fashion-mnist": _executed("fashion-mnist", 2.0)})
    findings = merged.cells[-1].source
    assert "{tab-item}" not in findings and "{glue:text}`gap__mnist:.2f`" in findings
    assert "gap__fashion-mnist" not in findings


def test_a_table_equal_on_both_datasets_is_shown_once_whatever_its_repr():
    """A glued table carries text/html and a text/plain repr with a memory address: the page shows
    the HTML, so equal HTML is one block; styled_table's HTML depends on the content only."""
    import pandas as pd

    from ipbook.site.plotting import styled_table

    def with_table(dataset, counts):
        nb = _executed(dataset, 2.0)
        html = styled_table(pd.DataFrame({"MNIST": counts})).to_html()
        record = "application/papermill.record/"        # as papermill stores a glued output
        nb.cells[2].outputs[0].data = {record + "text/html": html, record + "text/plain": f"<Styler at {id(nb):#x}>"}
        return nb
    same = merge_datasets({"mnist": with_table("mnist", ["5 of 5"]), "fashion-mnist": with_table("fashion-mnist", ["5 of 5"])})
    assert "{tab-item}" not in same.cells[-1].source
    other = merge_datasets({"mnist": with_table("mnist", ["5 of 5"]), "fashion-mnist": with_table("fashion-mnist", ["4 of 5"])})
    assert other.cells[-1].source.count("{tab-item}") == 2

