"""The HTML report of ``synthkit evaluate --domain audio``: scores, spectrograms, players.

One self-contained file: a table of the scores, then per class a few real and synthetic
clips, each as a log-spectrogram image (PNG, matplotlib) and a playable ``<audio>``
element whose source is the WAV itself as a base64 data URI. Written beside its
destination and renamed into place (atomic), with the scores as JSON beside it.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.dsp import stft
from synthkit.io import write_text

#: clips shown per class and kind (real / synthetic)
PER_CLASS = 3


def wav_data_uri(clip: np.ndarray, sample_rate: int) -> str:
    """A ``data:audio/wav;base64,...`` URI of a 16-bit PCM WAV of ``clip``."""
    from synthkit.domains.audio.deps import require_soundfile

    buf = io.BytesIO()
    require_soundfile().write(buf, np.clip(clip, -1, 1), sample_rate, subtype="PCM_16", format="WAV")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode()


def spectrogram_uri(clip: np.ndarray, sample_rate: int) -> str:
    """A ``data:image/png;base64,...`` URI of the clip's log-power spectrogram."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    n_fft = 1 << max(6, int(round(np.log2(0.032 * sample_rate))))
    db = 10 * np.log10(np.abs(stft(clip[None].astype(np.float32), n_fft)[0]) ** 2 + 1e-10)
    fig, ax = plt.subplots(figsize=(2.6, 1.6), dpi=80)
    ax.imshow(db.T, origin="lower", aspect="auto", cmap="magma", vmin=db.max() - 80, vmax=db.max(),
              extent=(0, len(clip) / sample_rate, 0, sample_rate / 2000))
    ax.set_xlabel("s", fontsize=7)
    ax.set_ylabel("kHz", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _cells(clips: AudioClips, label) -> str:
    x = clips.to_array()
    idx = np.arange(len(x)) if label is None else np.flatnonzero(clips.labels.astype(str) == label)
    cells = []
    for i in idx[:PER_CLASS]:
        cells.append(f'<div class="clip"><img src="{spectrogram_uri(x[i], clips.sample_rate)}" alt="spectrogram">'
                     f'<br><audio controls src="{wav_data_uri(x[i], clips.sample_rate)}"></audio></div>')
    return "".join(cells) or "<em>none</em>"


#: what each score means, shown beside it in the report
SCORE_HELP = {
    "fid": "Fréchet distance of classifier features, synthetic vs real (lower is better)",
    "fid_real_vs_real": "the same between real clips at equal n: the floor to read FID against",
    "inception_score": "exp E KL(p(y|x) || p(y)): confident and varied classes (higher is better)",
    "inception_score_real": "the inception score of the real holdout clips",
    "modified_inception_score": "mIS, exp E KL(p(y|x_i) || p(y|x_j)) over pairs: also within-class variety "
                                "(higher is better)",
    "modified_inception_score_real": "mIS of the real holdout clips",
    "am_score": "AM score, KL(real class marginal || synthetic) + mean entropy (lower is better)",
    "am_score_real": "AM score of the real holdout clips",
    "ndb_k": "NDB/K: share of k-means bins of real features with a different share of synthetic clips "
             "(lower is better)",
    "ndb_k_real_vs_real": "NDB/K of real holdout clips: about the test level (0.05) for one distribution",
    "copying_share": "share of synthetic clips nearer a training clip than any held-out clip "
                     "(1: replayed training clips)",
    "copying_share_expected": "the copying share of a generator that does not copy, n_train / (n_train + n_holdout)",
    "intended_class_accuracy": "share of synthetic clips classified as the class they were generated for",
    "real_holdout_accuracy": "the classifier's accuracy on real held-out clips: the ceiling of the above",
    "spectrum_lsd_db": "log-spectral distance (dB) of the mean power spectra, synthetic vs real",
    "spectrum_lsd_db_real_vs_holdout": "the same between the real clips and the real holdout",
}


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))


def write_report(results: dict, real: AudioClips, synthetic: AudioClips, path) -> Path:
    """Write the HTML report to ``path`` and the scores to ``path`` with ``.json``; atomically."""
    path = Path(path)
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td><td>{html.escape(SCORE_HELP.get(k, ''))}</td></tr>"
                   for k, v in results.items() if not isinstance(v, dict))
    labels = [None] if synthetic.labels is None or real.labels is None else sorted(
        set(synthetic.labels.astype(str)) | set(real.labels.astype(str)))
    sections = "".join(
        f"<h2>{'all clips' if lab is None else 'class ' + html.escape(lab)}</h2>"
        f"<h3>real</h3><div class='row'>{_cells(real, lab)}</div>"
        f"<h3>synthetic</h3><div class='row'>{_cells(synthetic, lab)}</div>" for lab in labels)
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>synthkit audio report</title><style>"
            "body{font-family:sans-serif;margin:2em}td{padding:2px 10px}.row{display:flex;flex-wrap:wrap}"
            ".clip{margin:4px;text-align:center}audio{width:210px}</style></head><body>"
            "<h1>Synthetic audio: evaluation</h1><p>Classifier and embedding trained on the real clips "
            "(log-mel statistics, MLP); FID and NDB/K beside real-vs-real at equal n, IS, mIS and AM score "
            "beside the real holdout's.</p>"
            f"<table>{rows}</table>{sections}</body></html>")
    write_text(path, page)
    write_text(path.with_suffix(".json"), json.dumps(results, indent=2, default=float))
    return path
