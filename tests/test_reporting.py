"""synthkit.reporting, the scaffolding of every report: a page with a figure and a table
round-trips to a self-contained file with its JSON beside it, text is escaped, and a failed
write leaves nothing half-written."""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from synthkit.reporting import Markup, Page, escape, figure, png_tag, table


def _page():
    fig = figure((2, 1.5))
    fig.subplots().plot([0, 1], [1, 0])
    page = Page("Scores <b>&</b> more", meta="n < 5")
    page.headline({"fid": 1.23456, "n": np.int64(3), "nested": {"left": "to the JSON"}}, meanings={"fid": "a <b>"})
    page.section("Plot & table", png_tag(fig, "a <line>"),
                 table([("x<y", 0.5), (Markup("<i>ok</i>"), None)], ("name", "value"), classes=("", "num")))
    return page


def test_page_with_figure_and_table_round_trips(tmp_path):
    scores = {"fid": 1.23456, "n": np.int64(3), "bad": float("nan"), "curve": np.arange(3.0)}
    path = _page().write(tmp_path / "out" / "report.html", scores=scores)
    page = path.read_text()
    assert path == tmp_path / "out" / "report.html"
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    src = re.search(r"<img alt='a &lt;line&gt;' src='data:image/png;base64,([A-Za-z0-9+/=]+)'/>", page)
    assert src and base64.b64decode(src.group(1), validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert "<title>Scores &lt;b&gt;&amp;&lt;/b&gt; more</title>" in page  # '<' in a title is escaped
    assert "<h1>Scores &lt;b&gt;&amp;&lt;/b&gt; more</h1>" in page and "<h2>Plot &amp; table</h2>" in page
    assert "<p class='meta'>n &lt; 5</p>" in page
    assert "<td>fid</td><td>1.235</td><td class='muted'>a &lt;b&gt;</td>" in page  # headline: .4g, meaning
    assert "nested" not in page  # dictionaries are for the JSON
    assert "<thead><tr><th>name</th><th>value</th></tr></thead>" in page
    assert "<td>x&lt;y</td><td class='num'>0.5</td>" in page and "<td><i>ok</i></td><td class='num'></td>" in page
    # the JSON beside it: plain numbers, NaN as null (strict JSON)
    saved = json.loads(path.with_suffix(".json").read_text(), parse_constant=pytest.fail)
    assert saved == {"fid": 1.23456, "n": 3, "bad": None, "curve": [0.0, 1.0, 2.0]}
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html", "report.json"]


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    _page().write(path, scores={"fid": 1.0})
    before = path.read_text(), path.with_suffix(".json").read_text()
    real_write = Path.write_text

    def fail_midway(self, text, *args, **kwargs):  # the disk fills up halfway through the page
        if "<html" in text:
            real_write(self, text[: len(text) // 2], *args, **kwargs)
            raise OSError("No space left on device")
        return real_write(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", fail_midway)
    with pytest.raises(OSError, match="No space"):
        _page().write(path, scores={"fid": 2.0})
    with pytest.raises(OSError, match="No space"):
        _page().write(tmp_path / "new.html", scores={"fid": 2.0})
    monkeypatch.undo()
    # the old pair untouched (its JSON too), no new pair, no temporary files
    assert (path.read_text(), path.with_suffix(".json").read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.json"]


def test_escape_and_json_path():
    assert escape(None) == "" and escape(3) == "3" and escape("a'<") == "a&#x27;&lt;"
    assert escape(Markup("<b>")) == "<b>"
    with pytest.raises(ValueError, match=r"r\.json would collide with the JSON"):
        Page("t").write("r.json", scores={})
