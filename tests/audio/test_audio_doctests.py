"""The Examples in the audio modules' docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["", ".mel", ".mulaw", ".words", ".machines", ".networks", ".synthesizer", ".anomaly", ".classifier", ".augment", ".vocoder",
           ".refine", ".vocoding"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module("synthkit.domains.audio" + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
