"""Reading a profile TOML: overrides applied, every value coerced and checked, one error."""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ValidationError
from .profile import DEFAULT_PROFILE, Profile, Source

_LEAF_KEYS = frozenset({"value", "source", "assumption", "note"})
_NOT_VALUES = ("name", "title", "sources")
"""Fields of :class:`Profile` that are not profile values."""


def available_profiles() -> list[str]:
    """Return the names of the profiles shipped in this package.

    Examples
    --------
    >>> "anshan-2020" in available_profiles()
    True
    """
    folder = resources.files("layout.standards")
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_profile(
    name_or_path: str | Path = DEFAULT_PROFILE, *, overrides: Mapping[str, Any] | None = None
) -> Profile:
    """Load a standards profile, apply a study's overrides and check every value.

    Parameters
    ----------
    name_or_path
        The name of a bundled profile (see :func:`available_profiles`) or the path of a
        profile TOML file.
    overrides
        Nested mapping of new values, as in a study TOML's ``[profile]`` table, for example
        ``{"class_size": {"primary_cap": 40}}``. Dotted keys (``{"class_size.primary_cap": 40}``)
        are accepted too. An overridden value's source records the profile value it replaced.

    Returns
    -------
    Profile
        The checked profile.

    Raises
    ------
    ValidationError
        The profile is unknown, a value is missing, has no source, or has the wrong type; or
        an override names an unknown key or has the wrong type. Every problem is listed.

    Examples
    --------
    >>> p = load_profile(overrides={"funding": {"primary_per_student": 900}})
    >>> p.funding.primary_per_student
    900.0
    >>> p.source("funding.primary_per_student").overridden
    True
    >>> load_profile(overrides={"class_size": {"primary_cap": 40.5}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: profile override 'class_size.primary_cap': expected ...
    """
    raw, where = _read(name_or_path)
    schema = _schema(Profile, "")
    problems: list[str] = []
    header = {k: raw.pop(k, None) for k in ("name", "title")}
    for key, text in header.items():
        if not isinstance(text, str) or not text:
            problems.append(f"{where}: top-level {key!r} must be a non-empty string")
    entries = _entries(raw, "", where, problems)
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for key, entry in entries.items():
        if key not in schema:
            problems.append(_unknown(key, schema, f"{where}: key"))
            continue
        values[key] = _coerce(key, schema[key], entry["value"], f"{where}: key", problems)
        sources[key] = _source(key, entry, where, problems)
    missing = [k for k in schema if k not in entries]
    if missing:
        problems.append(f"{where}: missing values for {', '.join(missing)}")
    if problems:
        raise ValidationError(problems)
    _apply(overrides or {}, schema, values, sources)
    _check_lengths(values)
    _check_reach(values)
    ordered = MappingProxyType({k: sources[k] for k in schema})
    tree = _build(Profile, "", values)
    return Profile(name=header["name"], title=header["title"], sources=ordered, **tree)


def _read(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    """Read the profile TOML (laid over the one it extends); return it and a name for messages."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml"):
        path = Path(name_or_path)
        if not path.is_file():
            raise ValidationError(f"profile file {str(path)!r} does not exist")
        content = path.read_text(encoding="utf-8")
        where = str(path)
    else:
        resource = resources.files("layout.standards") / f"{text}.toml"
        if not resource.is_file():
            raise ValidationError(
                f"profile {text!r} is not bundled; choose one of {', '.join(available_profiles())}"
                " or give the path of a .toml file"
            )
        content = resource.read_text(encoding="utf-8")
        where = f"profile {text!r}"
    try:
        raw = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{where}: not valid TOML ({exc})") from exc
    return _extended(raw, where, seen=(*seen, text)), where


def _extended(raw: dict[str, Any], where: str, *, seen: tuple[str, ...]) -> dict[str, Any]:
    """Return a profile laid over the profile it ``extends`` (its values replace the base's)."""
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str) or base_name in seen:
        raise ValidationError(f"{where}: extends must name another profile, got {base_name!r}")
    base, _ = _read(base_name, seen)
    return _merged(base, raw)


def _merged(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Lay ``top`` over ``base``: tables merge key by key, values (and leaf tables) replace."""
    out = dict(base)
    for key, item in top.items():
        below = out.get(key)
        if isinstance(item, Mapping) and "value" not in item and isinstance(below, Mapping):
            out[key] = _merged(below, item)
        else:
            out[key] = item
    return out


def _schema(cls: type, prefix: str) -> dict[str, tuple[Any, Mapping[str, Any]]]:
    """Map each dotted leaf key of a dataclass tree to its type and field metadata."""
    hints = typing.get_type_hints(cls)
    out: dict[str, tuple[Any, Mapping[str, Any]]] = {}
    for f in dataclasses.fields(cls):
        if cls is Profile and f.name in _NOT_VALUES:
            continue
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            out.update(_schema(typing.cast(type, tp), key + "."))
        else:
            out[key] = (tp, f.metadata)
    return out


def _entries(
    raw: Mapping[str, Any], prefix: str, where: str, problems: list[str]
) -> dict[str, dict[str, Any]]:
    """Flatten the profile TOML into dotted key -> ``{value, source, ...}`` tables."""
    out: dict[str, dict[str, Any]] = {}
    for name, item in raw.items():
        key = f"{prefix}{name}"
        if isinstance(item, Mapping) and "value" in item:
            extra = set(item) - _LEAF_KEYS
            if extra:
                problems.append(
                    f"{where}: key {key!r} has unknown fields {sorted(extra)}; "
                    f"allowed: {sorted(_LEAF_KEYS)}"
                )
            out[key] = dict(item)
        elif isinstance(item, Mapping):
            out.update(_entries(item, key + ".", where, problems))
        else:
            problems.append(
                f'{where}: key {key!r} must be a table {{ value = ..., source = "..." }}'
            )
    return out


def _source(key: str, entry: Mapping[str, Any], where: str, problems: list[str]) -> Source:
    """Check and build the source of one profile entry."""
    text = entry.get("source", "")
    assumption = entry.get("assumption", False)
    note = entry.get("note", "")
    if not isinstance(text, str) or not isinstance(note, str) or not isinstance(assumption, bool):
        problems.append(
            f"{where}: key {key!r}: source and note must be strings, assumption true or false"
        )
        return Source(text="")
    if assumption and not note:
        problems.append(f"{where}: key {key!r} is an assumption; say why in a note")
    if not assumption and not text:
        problems.append(
            f'{where}: key {key!r} has no source; give source = "..." or mark it'
            " assumption = true with a note"
        )
    return Source(text=text, assumption=assumption, note=note)


def _flat_overrides(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested (or dotted) override keys.

    A leaf is any value that is not a table, or a table ``{ value = ..., source = "..." }``
    when the study wants to cite where its value comes from.
    """
    out: dict[str, Any] = {}
    for name, item in raw.items():
        key = f"{prefix}{name}"
        if isinstance(item, Mapping) and "value" not in item:
            out.update(_flat_overrides(item, key + "."))
        else:
            out[key] = item
    return out


def _apply(
    overrides: Mapping[str, Any],
    schema: Mapping[str, tuple[Any, Mapping[str, Any]]],
    values: dict[str, Any],
    sources: dict[str, Source],
) -> None:
    """Replace profile values by checked overrides, recording the value each replaced."""
    if not isinstance(overrides, Mapping):
        raise ValidationError(
            f"profile overrides must be a table of keys, got {type(overrides).__name__}"
        )
    problems: list[str] = []
    new: dict[str, tuple[Any, str]] = {}
    for key, item in _flat_overrides(overrides).items():
        if key not in schema:
            problems.append(_unknown(key, schema, "profile override"))
            continue
        if schema[key][1].get("unread"):
            problems.append(
                f"profile override {key!r}: no analysis reads this value yet, so overriding it "
                "would change nothing; remove it from the study's [standards] table"
            )
            continue
        cited = isinstance(item, Mapping)
        value = item["value"] if cited else item
        text = item.get("source", "") if cited else ""
        if cited and (set(item) - {"value", "source"} or not isinstance(text, str)):
            problems.append(
                f"profile override {key!r}: a table override takes only value and source (a string)"
            )
        new[key] = (_coerce(key, schema[key], value, "profile override", problems), text)
    if problems:
        raise ValidationError(problems)
    for key, (value, text) in new.items():
        old = sources[key]
        sources[key] = Source(
            text=text or "study override",
            note=f"replaces {_shown(values[key])} from: {old.text or old.note}",
            overridden=True,
        )
        values[key] = value


def _check_lengths(values: Mapping[str, Any]) -> None:
    """Check that the per-size lists of each school type have one entry per size."""
    problems = []
    for key, sizes in values.items():
        if not key.endswith(".classes"):
            continue
        section = key.rpartition(".")[0]
        for other, items in values.items():
            if other.rpartition(".")[0] == section and other != key and len(items) != len(sizes):
                problems.append(
                    f"profile key {other!r} has {len(items)} values but {key!r} lists"
                    f" {len(sizes)} sizes; give one value per size"
                )
    if problems:
        raise ValidationError(problems)


def _check_reach(values: Mapping[str, Any]) -> None:
    """Check that the longest trip costed covers every time norm."""
    norms = [k for k in values if k.startswith("service.rural_") and k.endswith("_minutes")]
    longest = max(norms, key=lambda k: values[k])
    if values["service.max_trip_minutes"] < values[longest]:
        raise ValidationError(
            f"profile key 'service.max_trip_minutes' ({values['service.max_trip_minutes']:g}) "
            f"is below {longest!r} ({values[longest]:g}): children within that norm would "
            "count as beyond reach; raise max_trip_minutes"
        )


def _shown(value: Any) -> str:
    return "/".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _unknown(key: str, schema: Mapping[str, Any], what: str) -> str:
    """Message for an unknown key, listing the keys of its nearest known section."""
    if any(k.startswith(key + ".") for k in schema):
        inner = sorted(k[len(key) + 1 :] for k in schema if k.startswith(key + "."))
        return f"{what} {key!r} is a section, not a value; set one of: {', '.join(inner)}"
    section = key.rpartition(".")[0]
    while section and not any(k.startswith(section + ".") for k in schema):
        section = section.rpartition(".")[0]
    depth = section.count(".") + 1 if section else 0
    known = sorted(
        {
            ".".join(k.split(".")[: depth + 1])
            for k in schema
            if not section or k.startswith(section + ".")
        }
    )
    place = f"in section {section!r}" if section else "at the top level"
    near = difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return f"{what} {key!r} is not known; {hint}known keys {place}: {', '.join(known)}"


_TYPE_NAMES = {
    int: "an integer (int)",
    float: "a number (float)",
    str: "a string (str)",
    bool: "true or false (bool)",
}
_LIST_NAMES = {
    int: "a list of integers (list[int])",
    float: "a list of numbers (list[float])",
    str: "a list of strings (list[str])",
}


def _coerce(
    key: str,
    spec: tuple[Any, Mapping[str, Any]],
    value: Any,
    what: str,
    problems: list[str],
) -> Any:
    """Check ``value`` against the declared type; return it in canonical form or record why not."""
    tp, meta = spec
    if typing.get_origin(tp) is tuple:
        item_tp = typing.get_args(tp)[0]
        expected = _LIST_NAMES[item_tp]
        if not isinstance(value, list | tuple) or not value:
            problems.append(f"{what} {key!r}: expected {expected}, got {_got(value)}")
            return value
        items = [_scalar(item_tp, v) for v in value]
        if any(i is None for i in items):
            problems.append(f"{what} {key!r}: expected {expected}, got {_got(value)}")
            return value
        _check_meta(key, items, meta, what, problems)
        return tuple(items)
    item = _scalar(tp, value)
    if item is None:
        problems.append(f"{what} {key!r}: expected {_TYPE_NAMES[tp]}, got {_got(value)}")
        return value
    _check_meta(key, [item], meta, what, problems)
    return item


def _scalar(tp: type, value: Any) -> Any:
    """Return ``value`` as ``tp`` when it is acceptable as one, else None."""
    if tp is bool or isinstance(value, bool):
        return value if tp is bool and isinstance(value, bool) else None
    if tp is int:
        return value if isinstance(value, int) else None
    if tp is float:
        return float(value) if isinstance(value, int | float) else None
    if tp is str:
        return value if isinstance(value, str) else None
    raise TypeError(f"unsupported profile type {tp!r}")  # pragma: no cover - schema bug


def _got(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _check_meta(
    key: str, items: list[Any], meta: Mapping[str, Any], what: str, problems: list[str]
) -> None:
    """Check ranges and allowed values of checked items."""
    if "choices" in meta:
        bad = [i for i in items if i not in meta["choices"]]
        if bad:
            problems.append(
                f"{what} {key!r}: {bad} not allowed; choose from {', '.join(meta['choices'])}"
            )
        return
    if any(isinstance(i, str | bool) for i in items):
        return
    shown = items[0] if len(items) == 1 else items
    if any(i < 0 for i in items):
        problems.append(f"{what} {key!r}: must not be negative, got {shown}")
    if meta.get("share") and any(i > 1 for i in items):
        problems.append(f"{what} {key!r}: a share must lie between 0 and 1, got {shown}")


def _build(cls: type, prefix: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Build the keyword arguments of dataclass ``cls`` from flat dotted values."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if cls is Profile and f.name in _NOT_VALUES:
            continue
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            sub = typing.cast(type, tp)
            kwargs[f.name] = sub(**_build(sub, key + ".", values))
        else:
            kwargs[f.name] = values[key]
    return kwargs
