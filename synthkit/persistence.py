"""Save and load fitted models without pickle.

A saved model is a folder (like diffusers' ``save_pretrained``)::

    model/
      config.json          class, constructor parameters, version block
      state.json           fitted attributes that are plain data (numbers, strings, lists)
      weights.safetensors  network weights and numeric fitted arrays
      <attr>/              a nested model (e.g. the backbone inside a domain synthesizer)

Loading reads JSON and safetensors only, so a file can never run code; the class named
in ``config.json`` must live inside the ``synthkit`` package. The folder is written
next to its destination and renamed into place, so an interrupted save never leaves a
half-written model where a good one was.
"""

from __future__ import annotations

import importlib
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from synthkit.io import atomic_folder

FORMAT = "synthkit-model"
FORMAT_VERSION = 1
CONFIG, STATE, WEIGHTS = "config.json", "state.json", "weights.safetensors"


def version_block() -> dict[str, str]:
    from synthkit import __version__

    return {"synthkit": __version__, "torch": torch.__version__, "python": platform.python_version()}


# ---------------------------------------------------------------------- save
def save(obj, path) -> Path:
    """Write fitted ``obj`` to the folder ``path`` atomically; returns the path."""
    path = Path(path)
    if path.exists() and not (path / CONFIG).exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"{path} exists and is not a synthkit model folder; refusing to overwrite it.")
    with atomic_folder(path) as tmp:
        _write(obj, tmp)
    return path


def _write(obj, folder: Path) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(obj)
    cls = type(obj)
    params = {}
    for name, value in obj.get_params(deep=False).items():
        try:
            params[name] = _plain(value)
        except TypeError:
            what = f"a {type(value).__name__} object" if isinstance(value, torch.nn.Module) or callable(value) else repr(value)
            raise ValueError(
                f"parameter {name} of {cls.__name__} holds {what}, which cannot be saved as JSON; "
                "pass a registered name or plain values instead of Python objects (a network: register "
                "its factory with synthkit.nn.register_network and pass the name)."
            ) from None
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "params": params,
        "versions": version_block(),
    }
    tensors: dict[str, torch.Tensor] = {}
    state = {}
    for name, value in vars(obj).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        state[name] = _encode(value, name, folder, tensors)
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    (folder / STATE).write_text(json.dumps(state, indent=1))
    save_file(tensors, str(folder / WEIGHTS), metadata={"format": FORMAT})


def _plain(value):
    """JSON-ready copy of a parameter value (tuples become lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "get_params") and _is_synthkit(type(value)):  # an unfitted backbone= instance
        cls = type(value)
        return {"__estimator__": f"{cls.__module__}:{cls.__qualname__}",
                "params": {k: _plain(v) for k, v in value.get_params(deep=False).items()}}
    raise TypeError(type(value).__name__)


def _estimator_params(params: dict, path: Path) -> dict:
    """Rebuild parameters saved as ``{"__estimator__": ...}`` (unfitted synthkit estimators)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, dict) and "__estimator__" in value:
            cls = _resolve_class(value["__estimator__"], path)
            value = cls(**_restore_tuples(cls, _estimator_params(value["params"], path)))
        out[key] = value
    return out


def _encode(value, key: str, folder: Path, tensors: dict) -> Any:
    if isinstance(value, torch.nn.Module):
        for k, t in value.state_dict().items():
            tensors[f"{key}.{k}"] = t.detach().cpu().contiguous().clone()
        return {"__modules__": key}
    if hasattr(value, "get_params") and hasattr(value, "__sklearn_tags__") and _is_synthkit(type(value)):
        sub = folder / key
        sub.mkdir()
        _write(value, sub)
        return {"__model__": key}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            tensors[f"array.{key}"] = torch.from_numpy(np.ascontiguousarray(value))
            return {"__array__": key}
        return {"__list_array__": value.tolist(), "dtype": value.dtype.str if value.dtype.kind != "O" else "O"}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError(f"fitted attribute {key} has non-string keys; cannot save it.")
        return {"__dict__": {k: _encode(v, f"{key}.{k}", folder, tensors) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{key}.{i}", folder, tensors) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"fitted attribute {key} of type {type(value).__name__} cannot be saved.")


# ---------------------------------------------------------------------- load
def load(path):
    """Load a model saved with ``save``; raises ``ValueError`` for anything that is not one."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a synthkit model folder (no such directory).")
    try:
        config = json.loads((path / CONFIG).read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} is not a synthkit model folder: {CONFIG} is missing.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path / CONFIG} is corrupted: {err}.") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{path / CONFIG} is not a synthkit model config.")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} was saved by a newer synthkit ({config.get('versions', {}).get('synthkit')}); upgrade synthkit."
        )
    cls = _resolve_class(config.get("class", ""), path)
    for name in (STATE, WEIGHTS):
        if not (path / name).is_file():
            raise ValueError(f"{path} is incomplete: {name} is missing.")
    try:
        state = json.loads((path / STATE).read_text())
        tensors = load_file(str(path / WEIGHTS))
    except (json.JSONDecodeError, UnicodeDecodeError, SafetensorError, OSError) as err:
        raise ValueError(f"{path} is corrupted: {err}.") from None
    try:
        obj = cls(**_restore_tuples(cls, _estimator_params(config["params"], path)))
        modules = {}
        for name, value in state.items():
            decoded = _decode(value, path, tensors)
            if isinstance(decoded, _ModulesRef):
                modules[name] = decoded
            else:
                setattr(obj, name, decoded)
        for name, ref in modules.items():
            built = torch.nn.ModuleDict(obj._build()) if name == "modules_" else None
            if built is None:
                raise ValueError(f"do not know how to rebuild networks in {name}.")
            prefix = f"{ref.key}."
            built.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
            built.to(obj._device()).eval()
            setattr(obj, name, built)
    except (KeyError, TypeError, RuntimeError) as err:
        raise ValueError(f"{path} does not match {cls.__name__} in this synthkit version: {err}") from None
    return obj


def _restore_tuples(cls, params: dict) -> dict:
    """JSON has no tuples: give back a tuple where the class's default for a parameter is one."""
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
    return {k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v for k, v in params.items()}


class _ModulesRef:
    def __init__(self, key: str):
        self.key = key


def _decode(value, folder: Path, tensors: dict):
    if isinstance(value, list):
        return [_decode(v, folder, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__modules__" in value:
        return _ModulesRef(value["__modules__"])
    if "__model__" in value:
        return load(folder / value["__model__"])
    if "__array__" in value:
        return tensors[f"array.{value['__array__']}"].numpy().copy()
    if "__list_array__" in value:
        dtype = value["dtype"]
        return np.array(value["__list_array__"], dtype=object if dtype == "O" else np.dtype(dtype))
    if "__dict__" in value:
        return {k: _decode(v, folder, tensors) for k, v in value["__dict__"].items()}
    return value


def _is_synthkit(cls) -> bool:
    return cls.__module__.split(".")[0] == "synthkit"


def _resolve_class(target: str, path: Path):
    module, _, qualname = target.partition(":")
    if module.split(".")[0] != "synthkit" or not qualname:
        raise ValueError(f"{path / CONFIG} names class {target!r}, which is not part of synthkit.")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"{path} needs {target}, which this installation lacks ({err}).") from None
    if not isinstance(obj, type) or not hasattr(obj, "get_params"):
        raise ValueError(f"{path / CONFIG} names {target!r}, which is not a synthkit model class.")
    return obj
