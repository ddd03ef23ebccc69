"""How the package is built: stages in the order data flows, no cycles, a thin CLI, an API.

Stages (README "How it works"): base -> CBS access -> clean -> estimate -> rank -> geography
-> render -> orchestration. No module imports a module of a later stage, at module level or
inside a function; only ``if TYPE_CHECKING:`` imports are free.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "vluchtelingen_in_beeld"

STAGES = {
    "base": ["errors", "fmt", "settings", "_impl.odata_filter", "_impl.forking", "_impl.highs"],
    "access": ["_impl.client", "_impl.pdok", "_impl.server", "store", "tables", "cbs", "snapshot"],
    "clean": ["method", "inputs", "names", "regions", "check"],
    "estimate": ["estimate"],
    "rank": ["selection", "rank", "reference"],
    "geography": ["geo", "year"],
    "render": ["provenance", "templates", "sender", "maps", "pitch", "index", "output"],
    "orchestration": ["api", "run", "cli", "_impl.clikit", "__main__", "__init__"],
}
ORDER = list(STAGES)
STAGE_OF = {mod: ORDER.index(stage) for stage, mods in STAGES.items() for mod in mods}


def modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("").as_posix().replace("/", ".")
        out[rel.removesuffix(".__init__") if rel != "__init__" else rel] = path
    return {k: v for k, v in out.items() if k != "_impl"}


def imports_of(path: Path) -> set[str]:
    """Package modules imported by ``path``, anywhere except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text("utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            mod = node.module
            if mod == "vluchtelingen_in_beeld":
                found.update(a.name for a in node.names if a.name in STAGE_OF)
            elif mod.startswith("vluchtelingen_in_beeld."):
                name = mod.removeprefix("vluchtelingen_in_beeld.")
                found.add(name)
                if name == "_impl":
                    found.update(f"_impl.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("vluchtelingen_in_beeld."):
                    found.add(a.name.removeprefix("vluchtelingen_in_beeld."))
    return {m for m in found if m in STAGE_OF}


def test_every_module_has_a_stage():
    assert set(modules()) == set(STAGE_OF), set(modules()) ^ set(STAGE_OF)


@pytest.mark.parametrize("module", sorted(STAGE_OF))
def test_no_module_imports_a_later_stage(module):
    path = modules()[module]
    later = {m for m in imports_of(path) if STAGE_OF[m] > STAGE_OF[module]}
    assert not later, f"{module} ({ORDER[STAGE_OF[module]]}) imports later stages: {later}"


def test_no_import_cycles():
    graph = {m: imports_of(p) - {m} for m, p in modules().items() if m != "__init__"}
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                raise AssertionError(f"import cycle: {' -> '.join([*stack, node, nxt])}")
            if nxt not in seen:
                visit(nxt, [*stack, node])
        seen[node] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m, [])


def test_readme_names_every_module_stage():
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    for stage, mods in STAGES.items():
        assert f"**{stage}**" in section.lower() or f"**{stage}" in section.lower(), stage
        for mod in mods:
            if mod in ("__main__", "__init__"):
                continue
            assert f"`{mod.replace('.', '/')}.py`" in section, f"{mod} not in How it works"


def test_cli_is_thin():
    text = (PKG / "cli.py").read_text("utf-8")
    assert len(text.splitlines()) < 500
    # no pandas, no provenance assembly, no file writing, no store walking in the commands
    for banned in ("import pandas", "pd.", "write_bundle(", "record(", "Store(", "rglob("):
        assert banned not in text, banned


def test_exceptions_live_in_errors():
    for name, path in modules().items():
        if name == "errors":
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                assert not bases & {"VibError", "Exception", "ValueError", "ConfigError"} or (
                    name.startswith("_impl.")
                ), f"{name}.{node.name} is an exception outside errors.py"


def test_public_api_is_curated_and_importable():
    import vluchtelingen_in_beeld as vib

    assert {"build_year", "YearResult", "Session", "Settings", "write_map"} <= set(vib.__all__)
    for name in vib.__all__:
        assert getattr(vib, name) is not None, name
    # importing the package loads none of the heavy libraries
    code = (
        "import sys, vluchtelingen_in_beeld; "
        "print(sorted(m for m in ('pandas','geopandas','folium','matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readme_python_example_runs(statline, tmp_path, monkeypatch):
    """The README's library example, run against the shared snapshot."""
    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block, "README has no python example"
    code = block.group(1).replace('"../shared/data/statline"', repr(str(statline)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIB_DATA_DIR", str(tmp_path / "store"))
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert (tmp_path / "kaart.html").is_file()
    assert len(namespace["table"]) == 342  # type: ignore[arg-type]
