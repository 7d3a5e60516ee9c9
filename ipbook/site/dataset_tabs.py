"""One site, both datasets: a chapter executed once per dataset becomes one page, with a tab per
dataset (sphinx-design tab-sets, synced across the page) wherever the text shows results.

:func:`merge_datasets` takes the executed notebooks ``{dataset: notebook}`` of one chapter. Markdown
that glues results, names figures or refers to them becomes a tab-set (headings stay outside); its
glue keys, figure names and references are suffixed per dataset (``key__mnist``). A block whose
glued values read the same for every dataset is shown once. Code cells are kept once per dataset
(the code shown once); outputs shown by ``remove-input`` cells are re-glued into the tabs.
"""
from __future__ import annotations

import re

import nbformat

__all__ = ["merge_datasets", "DATASET_TITLES"]


#: How a page names a dataset (tab titles).
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "emnist-letters": "EMNIST letters"}
_HEADING = re.compile(r"^#{1,6} ")
_GLUE_ROLE = re.compile(r"(\{glue(?::[a-z]+)?\}`)([^`:<]+)")
_GLUE_DIRECTIVE = re.compile(r"^(\s*(?:`{3,}|:{3,})\{glue(?::[a-z]+)?\}\s+)(\S+)", re.M)
_NAME = re.compile(r"^(\s*:name:\s+)(\S+)", re.M)
_REF = re.compile(r"(\{(?:numref|ref)\}`(?:[^`<]*<)?)([^`>]+)")


def _suffix(dataset: str) -> str:
    return f"__{dataset}"


def _dataset_dependent(text: str) -> bool:
    """Whether a block of markdown shows results: glue, figure labels, references to them, or
    the ``dataset`` substitution."""
    return any(mark in text for mark in ("{glue", ":name:", "{numref}", "{ref}", "{{ dataset"))


def _for_dataset(text: str, dataset: str, labels: set[str]) -> str:
    """``text`` with its glue keys, figure labels and references to this page's labels suffixed
    for ``dataset``, and the ``dataset`` substitution replaced by its name."""
    sfx = _suffix(dataset)
    text = _GLUE_ROLE.sub(lambda m: m.group(1) + m.group(2) + sfx, text)
    text = _GLUE_DIRECTIVE.sub(lambda m: m.group(1) + m.group(2) + sfx, text)
    text = _NAME.sub(lambda m: m.group(1) + m.group(2) + sfx, text)
    text = _REF.sub(lambda m: m.group(1) + m.group(2) + (sfx if m.group(2) in labels else ""), text)
    return re.sub(r"\{\{\s*dataset\s*\}\}", dataset, text)


def _tab_set(text: str, datasets: list[str], labels: set[str]) -> str:
    """One tab per dataset (sphinx-design), each holding ``text`` for that dataset; the tabs of
    every page are synchronised (``:sync:``), so a reader's choice follows them."""
    items = "".join(f":::::{{tab-item}} {DATASET_TITLES.get(d, d)}\n:sync: {d}\n\n"
                    f"{_for_dataset(text, d, labels).strip()}\n\n:::::\n" for d in datasets)
    return f"::::::{{tab-set}}\n{items}::::::"


def _markdown_blocks(text: str) -> list[tuple[bool, str]]:
    """``text`` cut at its headings (outside fences): ``(is_heading, block)`` in order."""
    blocks, current, fence = [], [], None
    for line in text.splitlines():
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|:{3,})", stripped)
        if marker and fence is None:
            fence = marker.group(1)[0]
        elif marker and fence == marker.group(1)[0] and stripped.strip() == marker.group(1):
            fence = None
        if fence is None and _HEADING.match(line):
            blocks.append((False, "\n".join(current)))
            blocks.append((True, line))
            current = []
        else:
            current.append(line)
    blocks.append((False, "\n".join(current)))
    return [(h, b) for h, b in blocks if h or b.strip()]


def _glued(nb: nbformat.NotebookNode) -> dict[str, dict]:
    """Every glue output of an executed notebook: ``{key: its data}``."""
    return {o.metadata["scrapbook"]["name"]: dict(o.get("data", {}))
            for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("metadata", {}).get("scrapbook", {}).get("name")}


def _keys(block: str) -> set[str]:
    return {m.group(2) for m in _GLUE_ROLE.finditer(block)} | {m.group(2) for m in _GLUE_DIRECTIVE.finditer(block)}


def _same_everywhere(block: str, glued: dict[str, dict[str, dict]]) -> bool:
    """Whether a block would read the same for every dataset: no dataset substitution and every
    value it glues equal across the executed notebooks."""
    if "{{ dataset" in block or "{{dataset" in block:
        return False
    values = [{k: _as_shown(d) for k, d in v.items()} for v in glued.values()]
    return all(k in v and v[k] == values[0].get(k) for k in _keys(block) for v in values)


def _as_shown(data: dict) -> dict:
    """A glued output as the page shows it: without its text/plain fallback where it has a richer
    form (a table's text/plain is its repr, with a memory address)."""
    return {m: x for m, x in data.items() if not m.endswith("text/plain")} if len(data) > 1 else data


def _merge_markdown(source: str, datasets: list[str], labels: set[str], glued: dict[str, dict[str, dict]]) -> str:
    out = []
    for heading, block in _markdown_blocks(source):
        if heading or not _dataset_dependent(block):
            out.append(block.strip("\n"))
        elif _same_everywhere(block, glued):      # e.g. the tolerances: shown once, no tabs
            out.append(_for_dataset(block, datasets[0], labels).strip("\n"))
        else:
            out.append(_tab_set(block, datasets, labels))
    return "\n\n".join(out)


def _renamed_outputs(cell, dataset: str):
    """A copy of a code cell whose glue outputs carry ``dataset``'s suffix."""
    import copy

    cell = copy.deepcopy(cell)
    for out in cell.get("outputs", []):
        book = out.get("metadata", {}).get("scrapbook")
        if book and "name" in book:
            book["name"] = book["name"] + _suffix(dataset)
    return cell


_RECORD = "application/papermill.record/"


def _shown_as_glue(cell, index: int, dataset: str) -> tuple[list, list[str]]:
    """The outputs a ``remove-input`` cell shows (markdown, tables, text), turned into glue
    outputs named ``shown_<cell>_<k>`` with ``dataset``'s suffix, and the glue directives that show
    them again (unsuffixed: :func:`_tab_set` adds the suffix per tab)."""
    outputs, directives = [], []
    for k, out in enumerate(cell.get("outputs", [])):
        if out.get("metadata", {}).get("scrapbook"):
            outputs.append(out)
            continue
        data = dict(out.get("data", {})) if "data" in out else {"text/plain": "".join(out.get("text", ""))}
        name = f"shown_{index}_{k}"
        outputs.append(nbformat.v4.new_output("display_data", data={_RECORD + m: v for m, v in data.items()},
                                              metadata={"scrapbook": {"mime_prefix": _RECORD,
                                                                      "name": name + _suffix(dataset)}}))
        directives.append(f"```{{glue:md}} {name}\n:format: myst\n```" if "text/markdown" in data
                          else f"```{{glue}} {name}\n```")
    return outputs, directives


def merge_datasets(executed: dict[str, nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """One page from a chapter executed once per dataset (``{dataset: notebook}``, the same cells
    in each). Markdown that shows results becomes one tab per dataset (headings stay outside the
    tabs); every other code cell is kept once per dataset with its glue keys suffixed
    (``key__mnist``); the ``parameters`` and ``example`` cells are kept once, from the first
    dataset, the parameters cell saying which datasets the page shows. A block whose glued values
    are the same for every dataset is shown once, without tabs."""
    datasets = list(executed)
    first = executed[datasets[0]]
    sources = {d: [c.source for c in nb.cells if "parameters" not in c.metadata.get("tags", [])]
               for d, nb in executed.items()}
    if any(v != sources[datasets[0]] for v in sources.values()):
        raise ValueError("the executed notebooks differ in their cells; they must be one chapter")
    labels = {m.group(2) for c in first.cells if c.cell_type == "markdown" for m in _NAME.finditer(c.source)}
    glued = {d: _glued(nb) for d, nb in executed.items()}
    cells = []
    for i, cell in enumerate(first.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(_merge_markdown(cell.source, datasets, labels, glued),
                                                       metadata=cell.metadata))
        elif "parameters" in tags:
            cells.append(cell)
            cell.source = re.sub(r"^dataset = .*$", f"dataset = {datasets[0]!r}  # this page shows each of "
                                 f"{', '.join(map(repr, datasets))}, one tab each", cell.source, flags=re.M)
        elif "example" in tags:
            cells.append(cell)
        elif "remove-input" in tags:     # what it shows goes into tabs, one per dataset
            for d in datasets:
                copy_ = _renamed_outputs(executed[d].cells[i], d)
                copy_.outputs, shown = _shown_as_glue(copy_, i, d)     # the same directives for every d
                cells.append(copy_)
            if shown:
                cells.append(nbformat.v4.new_markdown_cell(_tab_set("\n\n".join(shown), datasets, labels)))
        else:
            copies = [_renamed_outputs(executed[d].cells[i], d) for d in datasets]
            for copy_ in copies[1:]:     # the code once: the other datasets' copies only carry outputs
                copy_.metadata["tags"] = ["remove-input" if t == "hide-input" else t
                                          for t in copy_.metadata.get("tags", [])]
            cells += copies
    for k, cell in enumerate(cells):         # the copies of a cell shared its id
        cell["id"] = f"{str(cell.get('id') or 'cell')[:40]}-{k}"
    merged = nbformat.v4.new_notebook(metadata=first.metadata)
    merged.cells = cells
    return merged


#: The datasets of the default site: the paper's main results (MNIST) and its check (Fashion-MNIST).
SITE_DATASETS = ("mnist", "fashion-mnist")
