"""Detect anomalies with a generative model, in scikit-learn's outlier API.

Fits a detector on benign breast-cancer biopsies only, then flags held-out rows: benign
ones it never saw and malignant ones. Prints the ROC AUC beside IsolationForest's, the
share of rows flagged, and for a few flagged rows the features that look least normal.

    python examples/detect_anomalies.py [--backbone autoregressive] [--max-time 30]
"""

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from synthkit.anomaly import GenerativeDetector


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="autoregressive", help="any registered backbone (default autoregressive)")
    parser.add_argument("--max-time", type=float, default=30.0, help="training seconds (default 30)")
    args = parser.parse_args(argv)

    data = load_breast_cancer()
    X, y = data.data, data.target  # target 1 = benign
    benign_train, benign_test = train_test_split(X[y == 1], test_size=0.3, random_state=0)
    X_test = np.vstack([benign_test, X[y == 0]])
    is_malignant = np.r_[np.zeros(len(benign_test)), np.ones((y == 0).sum())]

    # holdout_fraction: set the threshold on rows the model did not train on, so that about
    # `contamination` of *new* normal rows are flagged (a flexible model flatters its training rows)
    detector = GenerativeDetector(args.backbone, contamination=0.05, holdout_fraction=0.2,
                                  backbone_params={"max_time": args.max_time}, random_state=0).fit(benign_train)
    scores = detector.score_samples(X_test)  # higher = more normal
    forest = IsolationForest(random_state=0).fit(benign_train)
    print(f"score rule: {detector.score_rule_} of {type(detector.backbone_).__name__}")
    print(f"ROC AUC malignant vs held-out benign: {roc_auc_score(is_malignant, -scores):.3f} "
          f"(IsolationForest {roc_auc_score(is_malignant, -forest.score_samples(X_test)):.3f})")
    flagged = detector.predict(X_test) == -1
    print(f"flagged: {flagged[is_malignant == 0].mean():.0%} of held-out benign rows, "
          f"{flagged[is_malignant == 1].mean():.0%} of malignant rows")

    try:
        maps = detector.feature_scores(X_test[flagged][:3])
    except NotImplementedError as err:
        print(f"(no per-feature map: {err})")
        return 0
    for row in maps:
        worst = np.argsort(row)[:3]
        print("least normal features:", ", ".join(f"{data.feature_names[j]} ({row[j]:.1f})" for j in worst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
