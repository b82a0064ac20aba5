"""From a validated config to the grid of each experiment.

The schema (``config/config.schema.yaml``) checks types and ranges and fills
defaults; this module checks what the schema cannot know (method names, against
the registry) and resolves what depends on the machine (``workers: auto``).
Both raise :class:`ConfigError` with one line that names the key, the value and
what is allowed.
"""

from __future__ import annotations

import difflib
import multiprocessing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from experiments.interpreters import MAIN
from experiments.registry import EXPERIMENTS


class ConfigError(ValueError):
    """A configuration value that cannot be run; the message says which and why."""


def key_path(path) -> str:
    """``['experiments', 'pi_python', 'workers', 0]`` as ``experiments.pi_python.workers[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def explain_schema_error(error: jsonschema.ValidationError) -> str:
    """One line for the most relevant schema violation."""
    error = jsonschema.exceptions.best_match([error, *error.context]) if error.context else error
    where = key_path(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        hints = "".join(f" (did you mean {close[0]!r} for {name!r}?)" for name in unknown
                        if (close := difflib.get_close_matches(name, allowed, n=1)))
        message = f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}{hints}"
    elif error.validator == "not":
        message = f"{error.instance!r} is not allowed here"
    elif error.validator == "pattern" and error.schema.get("pattern") == "^auto$":
        message = f'{error.instance!r} is neither a list of worker counts nor "auto"'
    description = error.schema.get("description") if error.validator != "additionalProperties" else None
    return f"invalid configuration at {where}: {message}" + (f". Expected: {description}" if description else "")


def default_workers(logical_cpus: int) -> list[int]:
    """Powers of two up to twice the logical CPUs, plus the CPU count itself."""
    counts = {logical_cpus}
    power = 1
    while power <= 2 * logical_cpus:
        counts.add(power)
        power *= 2
    return sorted(counts)


def _check_choices(where: str, values: list[str], allowed: list[str], what: str) -> None:
    for index, value in enumerate(values):
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"invalid configuration at {where}[{index}]: {value!r} is not {what};"
                              f" allowed: {', '.join(allowed)}{hint}")


def resolve_interpreters(config: Mapping[str, Any], base: Path) -> dict[str, str]:
    """The grid's extra interpreters: name → executable, a relative path taken from ``base``.

    A name without a slash stays a command looked up on PATH when the job runs.
    """
    return {name: str(base / executable) if "/" in executable and not Path(executable).is_absolute() else executable
            for name, executable in config["interpreters"].items()}


def resolve_experiments(config: Mapping[str, Any], *, logical_cpus: int) -> dict[str, dict[str, Any]]:
    """Each configured experiment's complete settings: methods, workers, repeats, warmup,
    start methods (where the experiment has that axis), interpreters, params.

    ``config`` must already have passed the schema (which fills defaults).
    """
    resolved = {}
    for name, section in config["experiments"].items():
        if name not in EXPERIMENTS:  # the schema and the registry disagree: a bug of ours
            raise ConfigError(f"experiment {name!r} is in the schema but not in experiments/registry.py")
        settings = dict(section)
        settings.setdefault("methods", list(EXPERIMENTS[name].method_names))
        _check_choices(f"experiments.{name}.methods", settings["methods"], list(EXPERIMENTS[name].method_names),
                       f"a method of {name}")
        workers = settings.get("workers", config["workers"])
        settings["workers"] = default_workers(logical_cpus) if workers == "auto" else sorted(workers)
        settings.setdefault("repeats", config["repeats"])
        settings.setdefault("warmup", config["warmup"])
        if "start_methods" in settings:
            _check_choices(f"experiments.{name}.start_methods", settings["start_methods"],
                           multiprocessing.get_all_start_methods(), "a start method this platform has")
        settings.setdefault("interpreters", [MAIN])
        _check_choices(f"experiments.{name}.interpreters", settings["interpreters"],
                       [MAIN, *config["interpreters"]], f'"{MAIN}" or a name under the top-level key interpreters')
        resolved[name] = settings
    return resolved
