"""Text the pages glue: a phrase that displays without quotes, a spoken list, a verdict word."""
from __future__ import annotations



__all__ = ['Text', 'spoken_list', 'verdict', 'plus_minus', 'above_below', 'size_of_ratio', 'MUCH_RATIO']


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


#: A ratio at or above which the words call a difference large ("2.6 times as large: not slight").
#: It sets wording only; no verdict uses it (verdicts come from :mod:`ipbook.verdicts` and
#: :mod:`ipbook.measures`).
MUCH_RATIO = 1.5


def size_of_ratio(ratio: float, what: str, than: str) -> Text:
    """How large ``what`` is against ``than``, in words that say plainly whether the difference is
    slight: "2.6 times …, a large difference, not a slight one" at or above :data:`MUCH_RATIO`,
    "x % above …, a slight difference" below it, and "not above" at or below 1."""
    if ratio >= MUCH_RATIO:
        return Text(f"{what} is {ratio:.1f} times {than}: a large difference, not a slight one")
    if ratio > 1:
        return Text(f"{what} is {100 * (ratio - 1):.0f} % above {than}: a slight difference")
    return Text(f"{what} is not above {than} ({ratio:.2f} times)")
