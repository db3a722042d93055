"""The medical domain's docstring examples run, and a missing library names the extra to install."""

import doctest
import importlib
import sys

import pytest

MODULES = ["", ".imageset", ".io", ".save", ".dicom", ".preprocess", ".datasets", ".lesions", ".networks", ".metrics",
           ".synthesizer"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module("synthkit.domains.medical" + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_missing_library_names_the_extra(monkeypatch):
    from synthkit.domains.medical.deps import require

    monkeypatch.setitem(sys.modules, "pydicom", None)  # what an install without the extra looks like
    with pytest.raises(ImportError, match=r"needs pydicom; pip install 'synthkit\[medical\]'"):
        require("pydicom")
