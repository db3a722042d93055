"""Audio benchmark: every backbone family through AudioSynthesizer, and anomaly detectors
beside the DCASE 2020 autoencoder baseline, on procedural data (no downloads).

Generation (word-like clips, :func:`synthkit.domains.audio.make_words`): each family fits the
training clips class-conditionally within ``--max-time`` seconds (mel for the seven image
families, μ-law tokens for the WaveNet sequence model), draws as many clips per class as the
holdout has, and is scored on a classifier trained on the real training clips
(:mod:`synthkit.domains.audio.evaluation`): intended-class accuracy beside the classifier's
real holdout accuracy, FID on its features beside real-vs-real at equal n, inception score,
mean-spectrum LSD, modified inception score and AM score (beside the real holdout's), NDB/K
(beside real-vs-real), the copying share (beside its no-copying value), plus fit seconds,
clips per second, and the representation's reconstruct ceiling (LSD).

Vocoders: the default synthesizer with ``vocoder="learned"`` (a
:class:`~synthkit.domains.audio.vocoder.MelVocoder` trained on the training clips for
``--vocoder-epochs``): held-out clips through its log-mel and back by Griffin-Lim, by the
network alone, by the network plus Griffin-Lim from its phase, and by the untrained network plus
that refinement (control) -- log-spectral and multi-resolution STFT distances, fit seconds,
clips decoded per second; then (unless ``--skip-vocoder-generation``) the backbone's same seeded draws
decoded each way, scored as in the generation table.

Augmentation (:func:`synthkit.domains.audio.evaluate_augmentation`): word-like clips by a fixed
set of speakers (``make_words(n_speakers=...)``); the classifier (a small log-mel CNN) trains on
the clips of ``--train-speakers`` speakers only (a few clips per class) and is tested on the
clips of the other, unseen, speakers. Methods: no augmentation, SpecAugment alone, SpecAugment
with waveform perturbations (time shift, noise, pitch, speed), SpecAugment with as many synthetic
clips as real ones from the default synthesizer fitted on the training clips, and all together;
accuracy and macro-F1, mean and standard deviation over ``--seeds``.

Anomaly detection (:func:`synthkit.domains.audio.make_machine_sounds`, one detector per
machine id, trained on normal clips, tested on normal and faulty ones): AUC and pAUC (max
FPR 0.1) per detector, harmonic mean over machines, as DCASE reports; the DCASE 2020
baseline is a dense autoencoder 640-128x4-8-128x4-640 with MSE on the same features, built
with scikit-learn's MLPRegressor (no synthkit backbone is that model).

Every fit is capped at ``--max-time`` seconds and, with ``--max-epochs``, at that many epochs
(compare quality at epoch budgets: the machine's seconds are contended).

Usage:
    python benchmarks/audio.py [--quick] [--max-time 600] [--max-epochs N] [--backbones diffusion vae ...]
                               [--skip-generation] [--skip-vocoder] [--skip-vocoder-generation]
                               [--skip-augmentation] [--skip-anomaly]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

FAMILIES = ("diffusion", "vae", "gan", "flow", "autoregressive", "ebm", "rbm", "sequence")


def generation(args) -> list[dict]:
    from synthkit.domains.audio import make_words
    from synthkit.domains.audio.cli import ADAPTER
    from synthkit.domains.audio.evaluation import evaluate_clips
    from synthkit.domains.audio.metrics import log_spectral_distance
    from synthkit.domains.audio.synthesizer import AudioSynthesizer

    words = make_words(args.n_clips, n_classes=args.n_classes, duration=args.seconds, sample_rate=args.sample_rate,
                       random_state=0)
    train, holdout = ADAPTER.split(words, seed=0, target="label")
    rows = []
    for family in args.backbones:
        representation = "mulaw" if family == "sequence" else "mel"
        synth = AudioSynthesizer(representation, family, sample_rate=args.sample_rate, clip_seconds=args.seconds,
                                 backbone_params=budget(args), random_state=0, verbose=0)
        start = time.perf_counter()
        synth.fit(train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        fake = synth.sample(len(holdout), y=holdout.labels, random_state=1)
        clips_per_s = len(fake) / (time.perf_counter() - start)
        scores = evaluate_clips(train, type(train)(clips=fake, sample_rate=train.sample_rate, labels=holdout.labels),
                                holdout)
        ceiling = log_spectral_distance(holdout.clips, synth.reconstruct(holdout.clips))
        rows.append({"backbone": family, "representation": representation, **scores["summary"],
                     "reconstruct_lsd_db": ceiling, "fit_s": fit_s, "clips_per_s": clips_per_s})
        if len(rows) == 1:
            print("| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]))
        print(_row(rows[-1]), flush=True)
    return rows


def vocoders(args) -> list[dict]:
    """Griffin-Lim against the learned vocoder, on the reconstruct ceiling and on generation.

    One :class:`AudioSynthesizer` (the default backbone, ``vocoder="learned"``) is fitted on the
    training words: the vocoder for ``--vocoder-epochs`` epochs (no time cap), the backbone at the
    budget of the other sections. Reconstruct: held-out clips through the log-mel and back by
    Griffin-Lim, by the vocoder's network alone (the default), by the network plus 4 Griffin-Lim
    iterations from its phase (``refine_iter=4``), and by the untrained network plus those
    iterations (a control: what the refinement does alone). Generation: the same seeded backbone
    draws (``--draw-seeds``) decoded by the first three.
    """
    from synthkit.domains.audio import make_words
    from synthkit.domains.audio.cli import ADAPTER
    from synthkit.domains.audio.evaluation import evaluate_clips
    from synthkit.domains.audio.metrics import spectral_distances
    from synthkit.domains.audio.synthesizer import AudioSynthesizer
    from synthkit.domains.audio.vocoder import MelVocoder

    words = make_words(args.n_clips, n_classes=args.n_classes, duration=args.seconds, sample_rate=args.sample_rate,
                       random_state=0)
    train, holdout = ADAPTER.split(words, seed=0, target="label")
    synth = AudioSynthesizer(sample_rate=args.sample_rate, clip_seconds=args.seconds, vocoder="learned",
                             vocoder_params={"max_epochs": args.vocoder_epochs, "max_time": None},
                             backbone_params=budget(args),
                             random_state=0, verbose=1)
    start = time.perf_counter()
    synth.fit(train)
    fit_s = time.perf_counter() - start
    mel, learned = synth.representation_, synth.vocoder_
    refine = 4  # Griffin-Lim iterations of the refined rows (MelVocoder's refine_iter; its default is 0)
    untrained = MelVocoder(mel, max_epochs=0, random_state=0).fit(train)
    decoders = {"Griffin-Lim (32 iterations, InverseMelScale)": (None, 0.0, 0),
                f"MelVocoder, {args.vocoder_epochs} epochs, network alone": (learned, learned.fit_seconds_, 0),
                f"MelVocoder, {args.vocoder_epochs} epochs + {refine} GL iterations from its phase":
                    (learned, learned.fit_seconds_, refine),
                f"untrained MelVocoder + {refine} GL iterations (control)": (untrained, 0.0, refine)}
    images, lsd, rows = mel.encode(holdout.clips), {"n_fft": mel.n_fft // 2}, []
    print(f"vocoder {learned.n_steps_} steps in {learned.fit_seconds_:.0f} s; backbone "
          f"{type(synth.backbone_).__name__} {getattr(synth.backbone_, 'n_steps_', '?')} steps; whole fit {fit_s:.0f} s")
    print("| vocoder | LSD dB | MR-STFT | fit s | clips/s decoded |\n|---|---|---|---|---|")
    for name, (vocoder, seconds, n_iter) in decoders.items():
        start = time.perf_counter()
        out = mel.decode(images) if vocoder is None else vocoder.set_params(refine_iter=n_iter).decode(images)
        rate = len(images) / (time.perf_counter() - start)
        rows.append({"vocoder": name, **spectral_distances(holdout.clips, out, **lsd), "fit_s": seconds,
                     "clips_per_s": rate})
        print(_row(rows[-1]), flush=True)
    learned.set_params(refine_iter=0)
    if args.skip_vocoder_generation:
        return rows
    print(f"| decoding of the same draws (seeds {args.draw_seeds}, mean ± std) | intended acc | real acc | FID | "
          "FID real-vs-real | spectrum LSD dB |\n|---|---|---|---|---|---|")
    for name, (vocoder, _, n_iter) in list(decoders.items())[:3]:
        synth.vocoder_ = vocoder
        if vocoder is not None:
            vocoder.set_params(refine_iter=n_iter)
        runs = []
        for seed in args.draw_seeds:
            fake = synth.sample(len(holdout), y=holdout.labels, random_state=seed)
            runs.append(evaluate_clips(train, type(train)(clips=fake, sample_rate=train.sample_rate,
                                                          labels=holdout.labels), holdout)["summary"])
        cell = {k: f"{np.mean([r[k] for r in runs]):.3g} ± {np.std([r[k] for r in runs]):.2g}"
                for k in ("intended_class_accuracy", "real_holdout_accuracy", "fid", "fid_real_vs_real",
                          "spectrum_lsd_db")}
        print(_row({"decoder": name, **cell}), flush=True)
    synth.vocoder_ = learned.set_params(refine_iter=0)
    return rows


def budget(args) -> dict:
    """Backbone parameters of the budget: ``max_time`` seconds, and ``max_epochs`` when given."""
    return {"max_time": args.max_time, **({"max_epochs": args.max_epochs} if args.max_epochs else {})}


def augmentation(args):
    """The augmentation table: train on a few speakers, test on the unseen others (see the module text)."""
    from synthkit.domains.audio import AudioSynthesizer, LogMelCNNClassifier, evaluate_augmentation, make_words

    words = make_words(args.n_classes * args.n_speakers * args.utterances, n_classes=args.n_classes,
                       duration=args.seconds, sample_rate=args.sample_rate, n_speakers=args.n_speakers, random_state=0)
    seen = words.info["speaker"] < args.train_speakers
    train, test = words[seen], words[~seen]
    print(f"{len(train)} training clips ({args.train_speakers} speakers, {args.utterances} per word each), "
          f"{len(test)} test clips of {args.n_speakers - args.train_speakers} unseen speakers, "
          f"{args.n_classes} words; classifier {args.classifier_epochs} epochs; seeds {args.seeds}")
    synth = None
    if {"synthetic", "all"} & set(args.aug_methods):
        synth = AudioSynthesizer(sample_rate=args.sample_rate, clip_seconds=args.seconds,
                                 backbone_params=budget(args), random_state=0)
        start = time.perf_counter()
        synth.fit(train)
        print(f"default synthesizer ({type(synth.backbone_).__name__}, {synth.representation}, "
              f"{synth.backbone_.n_steps_} steps) fitted in {time.perf_counter() - start:.0f} s "
              "(measured on 2 shared cores under load)")
    table = evaluate_augmentation(train, test, synth, classifier=LogMelCNNClassifier(
        args.sample_rate, max_epochs=args.classifier_epochs), methods=args.aug_methods, seeds=args.seeds,
        reference="specaugment")
    print("| method | accuracy | ± std | gain vs SpecAugment | macro-F1 | ± std | clips | fit s |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, r in table.iterrows():
        gain = f"{r.accuracy_gain:+.3f}" if "accuracy_gain" in table else "-"
        print(f"| {name} | {r.accuracy:.3f} | {r.accuracy_std:.3f} | {gain} | {r.macro_f1:.3f} | "
              f"{r.macro_f1_std:.3f} | {int(r.n_train)} | {r.fit_seconds:.1f} |", flush=True)
    return table


def dcase_autoencoder(features: np.ndarray, max_time: float):
    """The DCASE 2020 Task 2 baseline: dense AE 640-128x4-8-128x4-640, MSE (scikit-learn MLP)."""
    from sklearn.neural_network import MLPRegressor

    ae = MLPRegressor(hidden_layer_sizes=(128, 128, 128, 128, 8, 128, 128, 128, 128), max_iter=max(10, int(max_time)), random_state=0)
    return ae.fit(features, features)


def anomaly(args) -> list[dict]:
    from scipy.stats import hmean

    from synthkit.domains.audio import AnomalousSoundDetector, auc_pauc, make_machine_sounds

    sr, rows = args.sample_rate, []
    train = make_machine_sounds(args.n_clips, n_machines=args.n_machines, duration=2 * args.seconds,
                                sample_rate=sr, random_state=0)
    test = make_machine_sounds(args.n_clips, n_machines=args.n_machines, fault_fraction=0.5,
                               duration=2 * args.seconds, sample_rate=sr, random_state=1)
    for name in [*[b for b in args.backbones if b != "sequence"], "dcase-ae"]:
        aucs, paucs = [], []
        for m in range(args.n_machines):
            normal, mixed = train[train.info["machine_id"] == m], test[test.info["machine_id"] == m]
            det = AnomalousSoundDetector("vae" if name == "dcase-ae" else name, sample_rate=sr, n_mels=args.n_mels,
                                         backbone_params=budget(args), random_state=0)
            if name == "dcase-ae":
                f = det._features(normal.clips)
                ae = dcase_autoencoder(f.reshape(-1, f.shape[2]), args.max_time)
                g = det._features(mixed.clips)
                flat = g.reshape(-1, g.shape[2])
                score = ((ae.predict(flat) - flat) ** 2).mean(1).reshape(len(mixed), -1).mean(1)
            else:
                score = -det.fit(normal).score_samples(mixed)
            auc, pauc = auc_pauc(mixed.labels, score)
            aucs.append(auc)
            paucs.append(pauc)
        rows.append({"detector": name, "hmean_auc": float(hmean(aucs)), "hmean_pauc": float(hmean(paucs))})
        print(_row(rows[-1]), flush=True)
    return rows


def _row(d: dict) -> str:
    return "| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in d.values()) + " |"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-time", type=float, default=None, help="seconds per fit (default 600; 10 with --quick)")
    p.add_argument("--backbones", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    p.add_argument("--max-epochs", type=int, default=None, help="epochs per fit (default: the backbone's)")
    p.add_argument("--quick", action="store_true", help="tiny: 10 s fits, 0.25 s clips at 8 kHz")
    p.add_argument("--n-classes", type=int, default=None, help="words (default 10; 4 with --quick)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="augmentation runs")
    p.add_argument("--train-speakers", type=int, default=2, help="augmentation: speakers of the training clips")
    p.add_argument("--aug-methods", nargs="+", default=["real", "specaugment", "perturbations", "synthetic", "all"],
                   choices=["real", "specaugment", "perturbations", "synthetic", "all"], help="augmentation methods")
    p.add_argument("--classifier-epochs", type=int, default=30, help="augmentation: epochs of the CNN classifier")
    p.add_argument("--vocoder-epochs", type=int, default=200, help="epochs of the learned vocoder")
    p.add_argument("--skip-generation", action="store_true")
    p.add_argument("--skip-vocoder", action="store_true")
    p.add_argument("--skip-vocoder-generation", action="store_true", help="vocoders: reconstruct table only")
    p.add_argument("--draw-seeds", type=int, nargs="+", default=[1, 2, 3], help="vocoders: seeds of the draws")
    p.add_argument("--skip-augmentation", action="store_true")
    p.add_argument("--skip-anomaly", action="store_true")
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny networks run fastest on one)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.sample_rate, args.seconds, args.n_clips, args.n_classes_, args.n_machines, args.n_mels = \
        16000, 1.0, 400, 10, 4, 128
    max_time = args.max_time
    args.max_time = 600.0
    if args.quick:
        args.max_time, args.sample_rate, args.seconds, args.n_clips, args.n_classes_, args.n_machines, args.n_mels = \
            10.0, 8000, 0.25, 64, 4, 2, 32
    args.max_time = args.max_time if max_time is None else max_time  # an explicit --max-time wins over --quick
    args.n_classes = args.n_classes or args.n_classes_
    args.n_speakers, args.utterances = 10, 5  # augmentation corpus: 10 speakers x 5 takes of every word
    if not args.skip_generation:
        print("## generation")
        generation(args)
    if not args.skip_vocoder:
        print("## vocoders (held-out clips through log-mel and back)")
        vocoders(args)
    if not args.skip_augmentation:
        print("## augmentation (unseen speakers)")
        augmentation(args)
    if not args.skip_anomaly:
        print("## anomaly detection\n| detector | hmean AUC | hmean pAUC |")
        anomaly(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
