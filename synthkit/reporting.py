"""The scaffolding every HTML report shares: one page skeleton, inline PNG figures, escaping,
and the atomic write of the page with its JSON beside it.

A report is one self-contained file a person opens in any browser or sends by e-mail: the
figures are base64 PNG data URIs (drawn on matplotlib's Agg canvas outside pyplot, so there
is no display, no global backend switch and no figure left open), and the numbers are also
written as JSON beside the page for programs. The tabular report
(:func:`synthkit.metrics.report.write_report`) and the molecule, medical-image and audio
reports of the domains are built from these pieces::

    page = Page("Generated molecules")
    page.headline(scores, note="How each number is computed.")
    page.section("Property distributions", png_tag(fig, "property histograms"))
    page.write("out/report.html", scores=scores)  # out/report.html and out/report.json

Text goes through :func:`escape`; HTML built by these helpers is :class:`Markup`, which
:func:`escape` and :func:`table` pass through unchanged (the convention of MarkupSafe).
matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from synthkit.io import atomic_path

#: the colours of real and synthetic data in every report's figures
REAL_COLOR, SYNTH_COLOR = "#4C72B0", "#DD8452"


class Markup(str):
    """A string that already is HTML: :func:`escape` leaves it as it is."""


def escape(text) -> Markup:
    """``text`` as HTML text (``<``, ``&``, quotes escaped; ``None`` as nothing); :class:`Markup` unchanged."""
    if isinstance(text, Markup):
        return text
    return Markup(html.escape("" if text is None else str(text)))


def data_uri(data: bytes, mime: str) -> str:
    """``data:MIME;base64,...``: a file's bytes inlined in the page (an image, a WAV to play)."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def figure(figsize, *, dpi=None):
    """A matplotlib figure drawn by the Agg canvas, outside pyplot (no global state, no display).

    ``dpi`` defaults to matplotlib's ``figure.dpi``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_tag(fig, alt: str, *, tight: bool = True, dpi=90) -> Markup:
    """An ``<img>`` tag holding ``fig`` as an inline base64 PNG.

    Args:
        fig: a matplotlib figure (e.g. from :func:`figure`).
        alt: the image's text alternative.
        tight: crop to the drawn content (``bbox_inches="tight"``, 0.1 in padding); a figure
            laid out by hand (``subplots_adjust``, ``tight_layout``) passes ``False``.
        dpi: resolution of the PNG; ``"figure"`` keeps the figure's own.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None, pad_inches=0.1)
    return Markup(f"<img alt='{escape(alt)}' src='{data_uri(buf.getvalue(), 'image/png')}'/>")


def table(rows: Iterable[Sequence], header: Sequence[str] | None = None, *, classes: Sequence[str] = (),
          cls: str = "") -> Markup:
    """A ``<table>``: a ``<thead>`` row of ``header`` (if given), then one ``<tr>`` per row.

    Cells are text (escaped; numbers are ``str``-ed) or :class:`Markup`. ``classes`` gives
    the ``<td>`` class of each column (``"num"``: right-aligned figures, ``"muted"``: grey
    notes, ``""``: none); ``cls`` the table's own class.
    """
    def td(i, cell):
        c = classes[i] if i < len(classes) else ""
        return f"<td class='{c}'>{escape(cell)}</td>" if c else f"<td>{escape(cell)}</td>"

    head = "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr></thead>" if header else ""
    body = "".join("<tr>" + "".join(td(i, cell) for i, cell in enumerate(row)) + "</tr>" for row in rows)
    attr = f" class='{escape(cls)}'" if cls else ""
    return Markup(f"<table{attr}>{head}<tbody>{body}</tbody></table>")


def to_jsonable(obj):
    """Plain Python types only: numpy scalars and arrays converted, NaN and inf as ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def report_path(path) -> Path:
    """``path`` as the HTML file of a report; refused if it ends in ``.json``, the name of the
    JSON written beside it. Reports call it first, to fail before the figures are drawn."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        raise ValueError(f"{path} would collide with the JSON written beside the report; use a .html path.")
    return path


class Page:
    """An HTML report put together in order: a header, sections, anything else added.

    Args:
        title: the ``<title>`` and ``<h1>`` (text; escaped).
        meta: a grey line under the heading (text or :class:`Markup`), e.g. sizes and date.
        css: style rules added after the shared ones, for a report's own classes.
    """

    def __init__(self, title: str, *, meta="", css: str = ""):
        self.title, self.meta, self.css = title, meta, css
        self.parts: list[str] = []

    def add(self, markup: str) -> Page:
        """Append HTML as it is (a footer, a block built elsewhere)."""
        self.parts.append(markup)
        return self

    def section(self, title: str, *parts: str) -> Page:
        """Append ``<section><h2>title</h2>parts</section>``; ``parts`` are HTML."""
        return self.add(f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>")

    def headline(self, scores: Mapping, *, meanings: Mapping | None = None, spec: str = ".4g",
                 note: str = "", title: str = "Scores") -> Page:
        """Append the section of headline numbers: one row a score, with what it means.

        Args:
            scores: name -> value; floats are written with ``spec``, other values as ``str``;
                nested dictionaries are left to the JSON.
            meanings: name -> how to read it, a third column when given.
            note: a paragraph under the table (HTML).
        """
        rows = [(k, format(v, spec) if isinstance(v, float) else str(v))
                + ((meanings.get(k, ""),) if meanings is not None else ())
                for k, v in scores.items() if not isinstance(v, Mapping)]
        body = table(rows, classes=("", "", "muted"), cls="scores")
        return self.section(title, body, f"<p>{note}</p>" if note else "")

    def html(self) -> str:
        """The whole page."""
        meta = f"<p class='meta'>{escape(self.meta)}</p>" if self.meta else ""
        return _PAGE.format(title=escape(self.title), css=_CSS + self.css, meta=meta, body="\n".join(self.parts))

    def write(self, path, *, scores=None) -> Path:
        """Write the page to ``path`` and, if ``scores`` is given, their JSON beside it (same name,
        ``.json``; numpy values as numbers, NaN and inf as ``null``).

        Both files are rendered first, then written to temporary files beside their
        destinations and renamed into place (:func:`synthkit.io.atomic_path`): on an error
        neither appears and existing files stay as they were. Returns ``path``.
        """
        path = Path(path) if scores is None else report_path(path)
        text = self.html()
        if scores is None:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
            return path
        dumped = json.dumps(to_jsonable(scores), indent=2, allow_nan=False)
        with atomic_path(path.with_suffix(".json")) as tmp_json, atomic_path(path) as tmp_html:
            tmp_json.write_text(dumped, encoding="utf-8")
            tmp_html.write_text(text, encoding="utf-8")
        return path


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{css}</style></head>
<body><main><header><h1>{title}</h1>{meta}</header>
{body}</main></body></html>
"""

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;background:#f6f7f9;margin:0}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff;box-shadow:0 0 8px rgba(0,0,0,.06)}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:34px 0 10px;border-bottom:1px solid #e3e5e8;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}
p{line-height:1.45;max-width:900px} .meta,.muted{color:#666;font-size:13px}
table{border-collapse:collapse;font-size:13.5px;margin:6px 0}
th,td{padding:5px 10px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:middle}
th{background:#f2f4f6;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary td:first-child,table.scores td:first-child{font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;font-weight:600;color:#fff}
.badge.good{background:#3a9a5b}.badge.fair{background:#d9a43a}.badge.poor{background:#c4483e}
.bar{display:inline-block;width:80px;height:8px;background:#eceef1;border-radius:4px;vertical-align:middle;overflow:hidden}
.bar span{display:block;height:100%}
img{max-width:100%;display:block;margin:8px 0}
details{margin:8px 0} summary{cursor:pointer;color:#4C72B0;font-size:14px}
.row{display:flex;gap:28px;align-items:flex-start;flex-wrap:wrap}
.callout{background:#eef4fb;border-left:4px solid #4C72B0;padding:8px 12px}
code{background:#f2f4f6;padding:1px 4px;border-radius:3px}
footer{margin-top:36px;color:#777;font-size:12.5px}
"""
