"""From a config to the grid of each experiment: :func:`load_config`.

The schema (``config/config.schema.yaml``) checks types and ranges and fills
defaults; this module checks what the schema cannot know (method names, against
the registry; one key against another) and resolves what depends on the machine
(``workers: auto``). Every check raises :class:`ConfigError` with one line that
names the key, the value and what is allowed.

Run as ``python -m experiments.config FILE...`` it checks config files without
Snakemake, whose own message for a YAML syntax error names no line.
"""

from __future__ import annotations

import copy
import difflib
import functools
import math
import multiprocessing
import reprlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from experiments.interpreters import MAIN, Interpreter, from_config
from experiments.machine import usable_cpus
from experiments.registry import EXPERIMENTS

#: The schema every configuration is checked against.
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config" / "config.schema.yaml"

#: Grid keys an experiment's section may set for itself; the top-level value applies otherwise.
INHERITED_KEYS = ("repeats", "warmup", "precision", "max_rounds", "time_budget_seconds", "trial_timeout_seconds")


class ConfigError(ValueError):
    """A configuration value that cannot be run; the message says which and why."""


def read_config_file(path: Path) -> Any:
    """A YAML (or JSON) config file's contents; a syntax error names the file, line and column."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and start:  # where the construct that the problem breaks began
            problem += f" ({context} from line {start.line + 1}, column {start.column + 1})"
        raise ConfigError(f"invalid configuration file {where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read configuration file {path}: {error}") from None


def _is_integer(checker, instance) -> bool:
    """Integers only: JSON Schema's "integer" also takes 2.0, which later code cannot use as a count."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker, instance) -> bool:
    """Finite numbers only: NaN passes every bound (each comparison is false) and infinity is no setting."""
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and math.isfinite(instance))


def _fill_defaults(properties_check):
    """The ``properties`` check, first filling each missing property that has a default (a copy of it)."""

    def check(validator, properties, instance, schema):
        if isinstance(instance, dict):  # the type check reports anything else
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from properties_check(validator, properties, instance, schema)

    return check


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    """A validator for the config schema with strict integers, finite numbers and defaults filled in
    (copies of them: the schema is read once)."""
    base = jsonschema.Draft202012Validator
    strict = base.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number})
    validator_class = jsonschema.validators.extend(
        base, {"properties": _fill_defaults(base.VALIDATORS["properties"])}, type_checker=strict)
    return validator_class(yaml.safe_load(SCHEMA_PATH.read_text()))


def validate_config(config: Any) -> None:
    """Check ``config`` against the schema, filling in the defaults of what it leaves out (in place)."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(config))
    if error is not None:
        raise ConfigError(explain_schema_error(error))


def load_config(config: Any, *, logical_cpus: int | None = None) -> dict[str, dict[str, Any]]:
    """Validate ``config`` (filling defaults in place) and resolve each experiment's settings.

    What the workflow runs before any job; ``logical_cpus`` (by default the CPUs
    this process may use) sizes ``workers: auto``.
    """
    validate_config(config)
    return resolve_experiments(config, logical_cpus=usable_cpus() if logical_cpus is None else logical_cpus)


def key_path(path) -> str:
    """``['experiments', 'pi_python', 'workers', 0]`` as ``experiments.pi_python.workers[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _short_repr() -> reprlib.Repr:
    """Values as error messages show them: nested garbage shortened, so that the message stays one readable line."""
    short = reprlib.Repr()  # its keyword arguments are Python 3.12's
    short.maxlevel, short.maxdict, short.maxlist, short.maxstring, short.maxother, short.maxlong = 2, 4, 6, 60, 60, 40
    return short


_SHORT = _short_repr()


def explain_schema_error(error: jsonschema.ValidationError) -> str:
    """One line for the most relevant schema violation."""
    error = jsonschema.exceptions.best_match([error, *error.context]) if error.context else error
    where = key_path(error.absolute_path)
    shown = _SHORT.repr(error.instance)
    message = error.message.replace(repr(error.instance), shown, 1)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(map(str, set(error.instance) - set(allowed)))
        hints = "".join(f" (did you mean {close[0]!r} for {name!r}?)" for name in unknown
                        if (close := difflib.get_close_matches(name, allowed, n=1)))
        message = f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}{hints}"
    elif error.validator == "not":
        message = f"{shown} is not allowed here"
    elif error.validator == "pattern" and error.schema.get("pattern") == "^auto$":
        message = f'{shown} is neither a list of worker counts nor "auto"'
    elif error.validator == "type" and isinstance(error.instance, float):
        message += (" (a whole number is written without a decimal point)" if error.instance.is_integer()
                    else " (numbers must be finite)" if not math.isfinite(error.instance) else "")
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
            raise ConfigError(f"invalid configuration at {where}[{index}]: {_SHORT.repr(value)} is not {what};"
                              f" allowed: {', '.join(allowed)}{hint}")


def resolve_interpreters(config: Mapping[str, Any], base: Path) -> dict[str, Interpreter]:
    """The grid's extra interpreters by name, relative paths taken from ``base`` (see
    :func:`experiments.interpreters.from_config`)."""
    return {name: from_config(entry, base) for name, entry in config["interpreters"].items()}


def _check_rounds(name: str, settings: Mapping[str, Any]) -> None:
    """The fewest timed rounds (``repeats``) must not exceed the most (``max_rounds``)."""
    if settings["repeats"] > settings["max_rounds"]:
        raise ConfigError(f"invalid configuration at experiments.{name}: repeats {settings['repeats']} (the fewest"
                          f" timed rounds) is more than max_rounds {settings['max_rounds']} (the most); raise"
                          " max_rounds or lower repeats")


def _check_hold(name: str, settings: Mapping[str, Any], memory_interval: float | None) -> None:
    """Workers that hold their memory shorter than two sampling intervals may all be missed by the sampler."""
    hold = settings.get("hold_seconds")
    if hold is not None and memory_interval is not None and hold < 2 * memory_interval:
        raise ConfigError(f"invalid configuration at experiments.{name}.hold_seconds: {hold} is less than twice"
                          f" memory_interval ({memory_interval} s), so the memory sampler could miss the workers"
                          f" at their fullest; make it at least {2 * memory_interval:g}")


def resolve_experiments(config: Mapping[str, Any], *, logical_cpus: int) -> dict[str, dict[str, Any]]:
    """Each configured experiment's complete settings: methods, workers, the round keys
    (:data:`INHERITED_KEYS`), the disturbance thresholds, start methods (where the
    experiment has that axis), interpreters, params.

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
        for key in INHERITED_KEYS:
            settings.setdefault(key, config[key])
        settings["disturbance"] = dict(config["disturbance"])
        _check_rounds(name, settings)
        _check_hold(name, settings, config["memory_interval"])
        if "start_methods" in settings:
            _check_choices(f"experiments.{name}.start_methods", settings["start_methods"],
                           multiprocessing.get_all_start_methods(), "a start method this platform has")
        settings.setdefault("interpreters", [MAIN])
        _check_choices(f"experiments.{name}.interpreters", settings["interpreters"],
                       [MAIN, *config["interpreters"]], f'"{MAIN}" or a name under the top-level key interpreters')
        resolved[name] = settings
    return resolved


def check_config_file(path: Path) -> None:
    """Check one config file on its own, as the workflow would; the error names the file."""
    config = read_config_file(path)
    try:
        load_config(config)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def main(paths: list[str]) -> int:
    """Check each config file; one line on stderr per bad file."""
    status = 0
    for path in paths:
        try:
            check_config_file(Path(path))
        except ConfigError as error:
            print(error, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
