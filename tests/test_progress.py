"""The optional progress bar helper."""

import pytest

from skmtl._progress import progress


def test_silent_by_default_returns_the_iterable():
    items = range(3)
    assert progress(items, False) is items
    assert progress(items, 0, desc="x") is items


def test_verbose_wraps_in_tqdm(capsys):
    tqdm = pytest.importorskip("tqdm")
    bar = progress((i for i in range(4)), True, desc="fits", total=4)
    assert isinstance(bar, tqdm.tqdm)
    assert list(bar) == [0, 1, 2, 3]
    assert "fits" in capsys.readouterr().err
