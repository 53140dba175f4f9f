"""Item titles: their natural word order, and an item found by its title (chapter 3).

MovieLens stores titles library-style (``'Usual Suspects, The (1995)'``);
:func:`natural_title` restores the order an encoder reads best, for the item and
user texts of :mod:`gcnrec_tutorial.text`. :func:`find_item` picks a query item
by title for :func:`~gcnrec_tutorial.text.most_similar`. Both are importable
from :mod:`gcnrec_tutorial.text` too.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from .errors import ConfigError

_ARTICLE = re.compile(r"^(?P<name>.+), (?P<article>The|A|An|La|Le|Les|Il|El|Das|Der|Die)"
                      r"(?P<year> \(\d{4}\))?$")  # fmt: skip


def natural_title(title: str) -> str:
    """Move a trailing article to the front (``'Usual Suspects, The (1995)'`` -> ``'The ...'``).

    MovieLens stores titles library-style; an encoder reads the natural order better.
    """
    match = _ARTICLE.match(title.strip())
    if match is None:
        return title.strip()
    return f"{match['article']} {match['name']}{match['year'] or ''}"


def find_item(items: pd.DataFrame, title: str) -> int:
    """Return the item id whose title is ``title`` (as in ``u.item`` or :func:`natural_title`).

    Chapter 3 uses it to pick a query item for :func:`~gcnrec_tutorial.text.most_similar`.

    Raises:
        ConfigError: no such title (the message shows close matches).
    """
    wanted = title.strip()
    for i, t in zip(items.index.tolist(), items["title"].tolist(), strict=True):
        if wanted in (t.strip(), natural_title(t)):
            return int(i)
    close = difflib.get_close_matches(wanted, items["title"].tolist(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"no item titled {title!r} (titles look like 'Star Wars (1977)'){hint}")
