"""The HTML report of ``synthkit evaluate --domain audio``: scores, spectrograms, players.

One self-contained file: a table of the scores, then per class a few real and synthetic
clips, each as a log-spectrogram image (PNG, matplotlib) and a playable ``<audio>``
element whose source is the WAV itself as a base64 data URI. Written beside its
destination and renamed into place (atomic), with the scores as JSON beside it; the page,
figures and write are :mod:`synthkit.reporting`'s, as for every report.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.dsp import stft
from synthkit.reporting import Page, data_uri, figure, png_tag, report_path

#: clips shown per class and kind (real / synthetic)
PER_CLASS = 3


def wav_data_uri(clip: np.ndarray, sample_rate: int) -> str:
    """A ``data:audio/wav;base64,...`` URI of a 16-bit PCM WAV of ``clip``."""
    from synthkit.domains.audio.deps import require_soundfile

    buf = io.BytesIO()
    require_soundfile().write(buf, np.clip(clip, -1, 1), sample_rate, subtype="PCM_16", format="WAV")
    return data_uri(buf.getvalue(), "audio/wav")


def spectrogram_tag(clip: np.ndarray, sample_rate: int) -> str:
    """An ``<img>`` of the clip's log-power spectrogram (inline PNG)."""
    n_fft = 1 << max(6, int(round(np.log2(0.032 * sample_rate))))
    db = 10 * np.log10(np.abs(stft(clip[None].astype(np.float32), n_fft)[0]) ** 2 + 1e-10)
    fig = figure((2.6, 1.6), dpi=80)
    ax = fig.subplots()
    ax.imshow(db.T, origin="lower", aspect="auto", cmap="magma", vmin=db.max() - 80, vmax=db.max(),
              extent=(0, len(clip) / sample_rate, 0, sample_rate / 2000))
    ax.set_xlabel("s", fontsize=7)
    ax.set_ylabel("kHz", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    return png_tag(fig, "spectrogram", tight=False, dpi="figure")


def _cells(clips: AudioClips, label) -> str:
    x = clips.to_array()
    idx = np.arange(len(x)) if label is None else np.flatnonzero(clips.labels.astype(str) == label)
    cells = []
    for i in idx[:PER_CLASS]:
        cells.append(f'<div class="clip">{spectrogram_tag(x[i], clips.sample_rate)}'
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


def write_report(results: dict, real: AudioClips, synthetic: AudioClips, path) -> Path:
    """Write the HTML report to ``path`` and the scores to ``path`` with ``.json``; atomically."""
    path = report_path(path)
    labels = [None] if synthetic.labels is None or real.labels is None else sorted(
        set(synthetic.labels.astype(str)) | set(real.labels.astype(str)))
    page = Page("Synthetic audio: evaluation", css=".clip{margin:4px;text-align:center}audio{width:210px}")
    page.headline(results, meanings=SCORE_HELP, note=(
        "Classifier and embedding trained on the real clips (log-mel statistics, MLP); FID and NDB/K "
        "beside real-vs-real at equal n, IS, mIS and AM score beside the real holdout's."))
    for lab in labels:
        page.section("all clips" if lab is None else f"class {lab}",
                     f"<h3>real</h3><div class='row'>{_cells(real, lab)}</div>"
                     f"<h3>synthetic</h3><div class='row'>{_cells(synthetic, lab)}</div>")
    return page.write(path, scores=results)
