"""How the package is built: stages in the order data flows, no cycles, a thin CLI, an API.

Stages (docs/architecture.md): base -> CBS access -> clean -> estimate -> rank -> geography
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
    "base": [
        "errors",
        "fmt",
        "settings",
        "records",
        "atomic",
        "files",
        "defaults",
        "streams",
        "catalogue",
        "words",
        "_impl.odata_filter",
        "_impl.forking",
        "_impl.highs",
    ],
    "access": ["_impl.client", "_impl.pdok", "_impl.server", "store", "tables", "cbs", "snapshot"],
    "clean": ["method", "inputs", "names", "regions", "check", "localfiles"],
    "estimate": ["estimate", "totals", "peers", "trend"],
    "rank": ["selection", "explain", "rank", "reference"],
    "geography": ["geo", "result"],
    "render": [
        "provenance",
        "templates",
        "sender",
        "maps",
        "pitch",
        "index",
        "output",
        "verkenner",
    ],
    "orchestration": ["pipeline", "run", "cli", "_impl.clikit", "__main__", "__init__"],
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


def test_readme_is_a_short_front_door_with_the_two_commands_first():
    """About 1,000 words at most; its first code block runs the job and passes the tests."""
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.split()) <= 1000
    first = readme.split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in first.strip().splitlines()] == [
        "./dev run",
        "./dev test",
    ]
    for doc in ("commands", "outputs", "verkenner", "method", "offline", "architecture"):
        assert f"(docs/{doc}.md)" in readme and (ROOT / "docs" / f"{doc}.md").exists(), doc
    assert (ROOT / "CONTRIBUTING.md").exists() and (ROOT / "CHANGELOG.md").exists()


def test_readme_names_every_module_stage():
    section = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    for stage, mods in STAGES.items():
        assert f"**{stage}**" in section.lower() or f"**{stage}" in section.lower(), stage
        for mod in mods:
            if mod in ("__main__", "__init__"):
                continue
            assert f"`{mod.replace('.', '/')}.py`" in section, f"{mod} not in How it works"


def test_cli_is_thin():
    text = (PKG / "cli.py").read_text("utf-8")
    # 15 commands, each options -> one library call -> messages (about 35 lines a command)
    assert len(text.splitlines()) < 575
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
    assert (tmp_path / "rangorde.xlsx").is_file()
    assert (tmp_path / "rangorde.xlsx.manifest.json").is_file()
    assert len(namespace["table"]) == 342  # type: ignore[arg-type]
    frame = namespace["frame"]
    assert len(frame) == 342 and frame.crs.to_epsg() == 28992  # type: ignore[attr-defined]
    assert frame.geometry.notna().all()  # type: ignore[attr-defined]
    inline = namespace["kaart"]._repr_html_()  # type: ignore[attr-defined]
    assert inline.startswith("<iframe srcdoc=") and "leaflet" in inline.lower()
    assert "Voorgestelde voortrekkersgemeenten" in namespace["year"]._repr_html_()  # type: ignore[attr-defined]
    # the example passes str paths, the notebook way (Path worked before; str did not)
    assert 'write_map(year, "kaart.html"' in code and 'write_ranking(year, "rangorde.xlsx")' in code


#: Modules whose function signatures are fully typed: no ``Any`` in a parameter or a return.
TYPED_SEAMS = (
    "estimate",
    "totals",
    "selection",
    "rank",
    "reference",
    "regions",
    "provenance",
    "output",
    "result",
    "pipeline",
    "run",
)


@pytest.mark.parametrize("module", TYPED_SEAMS)
def test_no_any_in_signatures(module):
    tree = ast.parse(modules()[module].read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            notes = [a.annotation for a in every if a is not None and a.annotation is not None]
            if node.returns is not None:
                notes.append(node.returns)
            for note in notes:
                if re.search(r"\bAny\b", ast.unparse(note)):
                    found.append(f"{node.name}: {ast.unparse(note)}")
    assert not found, found


#: A command-line flag in a message (``--draws``), outside a quoted command (```vib …```).
_FLAG = re.compile(r"(?<![\w`-])--[a-z][a-z-]+")


def _messages(tree: ast.AST) -> list[str]:
    """The string constants of a module that are not docstrings."""
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    out, inner = [], set()
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):  # an f-string: its literal parts with {} between
            parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in n.values]
            out.append("".join(map(str, parts)))
            inner.update(id(v) for v in n.values)
    out += [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs | inner
    ]
    return out


@pytest.mark.parametrize("module", sorted(m for m in STAGE_OF if m not in ("cli", "_impl.clikit")))
def test_library_messages_name_parameters_not_flags(module):
    """Library errors say ```draws```; only the CLI says ``--draws`` (errors.for_cli)."""
    found = []
    for text in _messages(ast.parse(modules()[module].read_text("utf-8"))):
        outside = re.sub(r"`vib [^`]*`", "", text)  # a command line quoted as one is fine
        found += _FLAG.findall(outside)
    assert not found, f"{module} names flags: {sorted(set(found))}"


def test_cli_puts_its_flags_where_the_library_names_parameters():
    from vluchtelingen_in_beeld.errors import for_cli

    flags = {"draws": "--draws", "all_": "--all"}
    said = "`draws` must be from 100 to 200000; use `all_` or `unknown_thing`."
    assert for_cli(said, flags) == (
        "--draws must be from 100 to 200000; use --all or `unknown_thing`."
    )


def test_dir_lists_the_lazy_exports():
    import vluchtelingen_in_beeld as vib

    shown = set(dir(vib))
    assert set(vib.__all__) <= shown
    assert {"build_year", "write_map", "Origin", "YearResult"} <= shown
    assert "import_module" not in shown  # the module's own imports are not public


def test_wheel_ships_py_typed(tmp_path):
    """Users' type checkers see the package's types (PEP 561)."""
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300, text=True,
    )  # fmt: skip
    # an SPDX licence and a LICENSE file: no deprecation warnings from setuptools
    assert "deprecat" not in (built.stdout + built.stderr).lower()
    (wheel,) = tmp_path.glob("vluchtelingen_in_beeld-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    meta = archive.read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta
    assert any(n.endswith("dist-info/licenses/LICENSE") for n in names)
    assert "vluchtelingen_in_beeld/py.typed" in names
    assert "vluchtelingen_in_beeld/templates/pitch.html.j2" in names
    # the selectieverkenner's script and the vendored solver, with its licence and sums
    for name in ("page.js", "programme.js", "solver.js", "explain.js", "format.js"):
        assert f"vluchtelingen_in_beeld/templates/verkenner/{name}" in names, name
    for name in ("highs.js", "highs.wasm", "LICENSE", "VENDOR.toml"):
        assert f"vluchtelingen_in_beeld/vendor/highs-js/{name}" in names, name
