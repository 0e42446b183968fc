"""Reading scenario files: YAML or TOML, a built-in name, or a mapping, validated.

:func:`load_scenario` validates a file; every problem is a
:class:`~blackout.errors.ScenarioError` naming the file, the field path (and line, for
YAML) and what is allowed. :func:`builtin_scenarios` lists the shipped scenarios
(``cases/*/scenarios/``); :func:`scenario_json_schema` is the schema for editors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from blackout.errors import ScenarioError
from blackout.scenario.schema import Scenario
from blackout.threats.base import Loc, scenario_error

__all__ = ["ScenarioInfo", "builtin_scenarios", "load_scenario", "scenario_json_schema",
           "validate_scenario"]


@dataclass(frozen=True)
class ScenarioInfo:
    """A built-in scenario: name, case, description and file."""

    name: str
    case: str
    description: str
    path: Path


def builtin_scenarios() -> dict[str, ScenarioInfo]:
    """Every built-in scenario by name (files under ``cases/*/scenarios/``)."""
    root = Path(__file__).parent.parent / "cases"
    out: dict[str, ScenarioInfo] = {}
    for path in sorted(root.glob("*/scenarios/*")):
        if path.suffix not in (".yaml", ".yml", ".toml"):
            continue
        sc = load_scenario(path)
        out[sc.name] = ScenarioInfo(sc.name, sc.case, sc.description, path)
    return out


def load_scenario(source: str | Path | dict[str, Any]) -> Scenario:
    """Validate a scenario file (``.yaml``, ``.yml``, ``.toml``), built-in name or mapping.

    Raises :class:`ScenarioError` naming the file, the field path, the line (YAML)
    and what is allowed.
    """
    if isinstance(source, dict):
        return validate_scenario(source, "<scenario>", None, None)
    path = Path(source)
    if not path.exists() and path.suffix == "" and "/" not in str(source):
        root = Path(__file__).parent.parent / "cases"
        hits = [p for p in root.glob(f"*/scenarios/{source}.*")
                if p.suffix in (".yaml", ".yml", ".toml")]
        if not hits:
            import difflib

            names = sorted(p.stem for p in root.glob("*/scenarios/*.yaml"))
            close = difflib.get_close_matches(str(source), names, n=3, cutoff=0.4)
            raise ScenarioError(f"{source}: not a scenario file nor a built-in scenario "
                                f"(see `blackout scenarios`)"
                                + (f"; did you mean {', '.join(close)}?" if close else ""))
        path = hits[0]
    from blackout.inputfiles import MAX_NESTING, TEXT_MAX_BYTES, check_nesting, read_text

    # a regular UTF-8 file of at most 4 MiB (a FIFO, directory or /dev/zero is refused)
    text = read_text(path, max_bytes=TEXT_MAX_BYTES, what="scenario", error=ScenarioError)
    try:
        data, line_of = _parse(text, path)
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deeply") from None
    if check_nesting(data, limit=MAX_NESTING) is not None:
        raise ScenarioError(f"{path}: nested too deeply (over {MAX_NESTING} levels)")
    return validate_scenario(data, str(path), line_of, path.parent)


def _parse(text: str, path: Path) -> tuple[Any, Callable[[Loc], int | None] | None]:
    if path.suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            return tomllib.loads(text), None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    if path.suffix not in (".yaml", ".yml"):
        raise ScenarioError(f"{path}: unknown scenario format {path.suffix!r}; allowed: "
                            ".yaml, .yml, .toml")
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{where}: not valid YAML: {problem}") from None
    return data, (lambda loc: _yaml_line(node, loc))


def _yaml_line(node: Any, loc: Loc) -> int | None:
    """Line (1-based) of the YAML node at ``loc``; the deepest one found."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
            if nxt is None:
                return line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and \
                0 <= part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def validate_scenario(data: Any, source: str, line_of: Callable[[Loc], int | None] | None,
                      base_dir: Path | None) -> Scenario:
    """The :class:`Scenario` of parsed ``data`` from ``source`` (a file, for messages);
    ``line_of`` maps a field path to its line, ``base_dir`` resolves a relative case file.
    Raises :class:`ScenarioError` naming the file, field path and line."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of fields (name, case, "
                            f"threats, ...), got {type(data).__name__}")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = _clean_loc(data, tuple(first["loc"]))
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            msg = "required field missing"
        elif first["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise scenario_error(source, loc, msg + more, line_of) from None
    return sc.with_origin(source, line_of, base_dir)


def _clean_loc(data: Any, loc: Loc) -> Loc:
    """Drop the union tags pydantic inserts (``threats.0.wildfire.x`` -> ``threats[0].x``)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict):
            if part in cur:
                out.append(part)
                cur = cur[part]
            elif part in (cur.get("kind"), cur.get("do")):
                continue
            else:
                out.append(part)
                cur = None
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        else:
            if not (isinstance(part, str) and part in ("wildfire", "cyber", "sabotage",
                                                         "neglect")):
                out.append(part)
            cur = None
    return tuple(out)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (for editor completion)."""
    schema = Scenario.model_json_schema()
    schema["title"] = "blackout scenario"
    return schema
