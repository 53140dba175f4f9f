"""Tests of gcnrec_tutorial.titles: natural word order, and finding an item by its title."""

from __future__ import annotations

import pytest

from gcnrec_tutorial import ml100k, text, titles


def test_importable_from_text() -> None:
    assert text.natural_title is titles.natural_title
    assert text.find_item is titles.find_item


def test_natural_title() -> None:
    assert titles.natural_title("Usual Suspects, The (1995)") == "The Usual Suspects (1995)"
    assert titles.natural_title("Graduate, The") == "The Graduate"
    assert titles.natural_title("Haine, La (1995)") == "La Haine (1995)"
    assert titles.natural_title(" Toy Story (1995) ") == "Toy Story (1995)"
    assert titles.natural_title("The, Theory (1999)") == "The, Theory (1999)"  # not an article


def test_find_item(tiny: ml100k.MovieLens100K) -> None:
    assert titles.find_item(tiny.items, "Star Wars (1977)") == 2
    assert titles.find_item(tiny.items, "  Fargo (1996) ") == 3
    with pytest.raises(ValueError, match="did you mean 'Star Wars \\(1977\\)'"):
        titles.find_item(tiny.items, "Star Wars (1978)")
