"""Build the whole site (quick profile) and check every chapter page as a reader would get it."""
import re

import pytest

from ipbook.book import build_book, chapters


def test_toc_chapters_exist_in_reading_order():
    pages = chapters()
    assert str(pages[0]) == "book/intro.md"
    assert all(p.suffix in (".md", ".ipynb") for p in pages)
    assert any("appendix_a1" in str(p) for p in pages)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_book("quick", "fashion-mnist", out=tmp_path_factory.mktemp("site"), progress=False)


def test_every_chapter_page_is_built_with_figures_and_no_traceback(site):
    for page in chapters():
        html = (site / page.with_suffix(".html")).read_text()
        assert "Traceback (most recent call last)" not in html, page
        if page.suffix == ".ipynb":
            assert re.search(r"<img[^>]+src=\"[^\"]*\.(png|svg)", html), f"{page}: no figure"


def test_site_loads_nothing_from_the_internet(site):
    for html in site.rglob("*.html"):
        text = html.read_text()
        assert not re.search(r"<script[^>]+src=\"(https?:)?//", text), html
        assert not re.search(r"<link[^>]+href=\"(https?:)?//[^\"]+\"[^>]*stylesheet|<link[^>]+stylesheet[^>]+href=\"(https?:)?//", text), html
    assert list(site.rglob("mathjax/**/tex-chtml*.js")) or list(site.rglob("*mathjax*")), "no local MathJax"
