"""Text the pages glue: a phrase that displays without quotes, a spoken list, a verdict word."""
from __future__ import annotations



__all__ = ['Text', 'spoken_list', 'verdict', 'plus_minus', 'above_below', 'size_of_ratio']


class Text:
    """A piece of text (a verdict, a name) to glue into a page: it displays without quotes."""

    def __init__(self, text: str):
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return str(other) == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def spoken_list(items, empty: str = "none") -> Text:
    """``Text("5, 10 and 20")`` for ``[5, 10, 20]``; ``Text(empty)`` for no items. A plain
    ``"5, 10, 20"`` would not do: MyST-NB's ``glue:text`` reads it as a Python tuple and shows
    ``(5, 10, 20)``."""
    items = [str(i) for i in items]
    if not items:
        return Text(empty)
    return Text(items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1])


def verdict(ok: bool, yes: str = "supported", no: str = "not supported", *, judged: bool = True,
            unjudged: str = "cannot be judged (the run is too short)") -> Text:
    """``Text(yes)`` if ``ok`` else ``Text(no)``; ``Text(unjudged)`` when not ``judged`` (e.g. a
    claim about the simplifying phase, for a run shorter than :data:`~ipbook.measures.LONG_RUN_STEPS`)."""
    if not judged:
        return Text(unjudged)
    return Text(yes if ok else no)


def plus_minus(mean: float, sd: float, digits: int = 2) -> str:
    """``"+0.42 ± 0.05"``: a signed mean and its standard deviation to ``digits`` decimals; the mean
    alone when ``sd`` is NaN (one seed)."""
    return f"{mean:+.{digits}f}" + (f" ± {sd:.{digits}f}" if sd == sd else "")


def above_below(pct: float, digits: int = 1, unit: str = " %") -> Text:
    """A signed difference in words: ``Text("1.7 % below")`` for ``-1.7``, ``Text("3.2 % above")``
    for ``3.2``, ``Text("0.0 % above")`` for zero; ``unit`` follows the number (" points" for
    percentage points)."""
    return Text(f"{abs(pct):.{digits}f}{unit} " + ("below" if round(pct, digits) < 0 else "above"))


def size_of_ratio(ratio: float, what: str, than: str) -> Text:
    """How large ``what`` is against ``than``, as the ratio and the percentage both: "2.6 times
    …, 164 % more", or "not above … (0.90 times)". No size is called slight or large here: that
    would be a threshold outside the one judge; the page says what the claim's word asks."""
    if ratio > 1:
        return Text(f"{what} is {ratio:.1f} times {than}, {100 * (ratio - 1):.0f} % more")
    return Text(f"{what} is not above {than} ({ratio:.2f} times)")
