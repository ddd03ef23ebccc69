"""How the package is built: stage folders in the order data flows, no cycles, a thin CLI.

The base is the package's root (errors, formatting, settings, atomic writes …); each later
stage is a folder (docs/architecture.md). No module imports a module of a later stage, at
module level or inside a function; only ``if TYPE_CHECKING:`` imports are free. The front
door (``__init__``, ``__main__``) names any stage, lazily.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "vluchtelingen_in_beeld"

#: The stage folders, in the order data flows; the base (the root) comes before them all.
FOLDERS = ["access", "clean", "estimation", "ranking", "geography", "render", "workflow", "cli"]
ORDER = ["base", *FOLDERS]
#: The base: small modules every stage may use, at the package's root.
BASE = {"errors", "fmt", "settings", "records", "atomic", "files", "defaults", "streams",
        "catalogue", "words", "forking", "cells"}  # fmt: skip
FRONT_DOOR = {"__init__", "__main__"}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (``access.cbs``; ``access`` its __init__)."""
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("").as_posix().replace("/", ".")
        out[rel.removesuffix(".__init__") if rel != "__init__" else rel] = path
    return out


def stage_of(module: str) -> int:
    """The position of a module's stage in :data:`ORDER` (a folder's __init__: its folder)."""
    head = module.split(".")[0]
    return ORDER.index(head) if head in FOLDERS else 0


STAGE_OF = {m: stage_of(m) for m in modules() if m not in FRONT_DOOR}


def imports_of(path: Path) -> set[str]:
    """Package modules imported by ``path``, anywhere except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text("utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    known = set(modules())
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.level, f"{path.name}: relative import of {node.module}"
            if node.module == "vluchtelingen_in_beeld" or node.module.startswith(
                "vluchtelingen_in_beeld."
            ):
                name = node.module.removeprefix("vluchtelingen_in_beeld").lstrip(".")
                if name:
                    found.add(name)
                prefix = f"{name}." if name else ""
                found.update(f"{prefix}{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("vluchtelingen_in_beeld."):
                    found.add(a.name.removeprefix("vluchtelingen_in_beeld."))
    return {m for m in found if m in known and m not in FRONT_DOOR}


def test_the_folders_are_the_stages():
    """``ls`` shows the stages: one folder each, nothing else, no module-less folder."""
    folders = sorted(p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert folders == sorted(FOLDERS)
    roots = {p.stem for p in PKG.glob("*.py")}
    assert roots == BASE | FRONT_DOOR, roots ^ (BASE | FRONT_DOOR)
    stray = [p.name for p in PKG.iterdir() if p.is_dir() and p.name not in FOLDERS]
    assert set(stray) <= {"__pycache__"}, stray


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_folder_says_its_job_and_names_its_modules(folder):
    init = PKG / folder / "__init__.py"
    tree = ast.parse(init.read_text("utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and doc.startswith(f"Stage {ORDER.index(folder)}, "), doc
    assert [n for n in tree.body if not isinstance(n, ast.Expr)] == [], "docstring only"
    for mod in sorted(p.stem for p in (PKG / folder).glob("*.py") if p.stem != "__init__"):
        assert f":mod:`.{mod}`" in doc, f"{folder}/__init__.py does not name {mod}"
    # every public name it gives for a module is that module's (quoted text, a flag or a
    # folder, is not a name)
    for bullet in doc.split("\n- ")[1:]:
        mod = re.match(r":mod:`\.(\w+)`", bullet)
        assert mod, bullet
        module = importlib.import_module(f"vluchtelingen_in_beeld.{folder}.{mod.group(1)}")
        for name in re.findall(r"``([^`]+)``", bullet):
            assert not name.isidentifier() or hasattr(module, name), f"{mod.group(1)}: {name}"


@pytest.mark.parametrize("module", sorted(STAGE_OF))
def test_no_module_imports_a_later_stage(module):
    path = modules()[module]
    later = {m for m in imports_of(path) if STAGE_OF[m] > STAGE_OF[module]}
    assert not later, f"{module} ({ORDER[STAGE_OF[module]]}) imports later stages: {later}"


def test_the_stage_check_can_fail(tmp_path):
    """The import walker sees a later stage's import inside a function (what it must refuse)."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from vluchtelingen_in_beeld.render.output import x\n"
        "def f():\n    from vluchtelingen_in_beeld.workflow import pipeline\n"
    )
    assert imports_of(probe) == {"workflow", "workflow.pipeline"}


def test_imports_sit_at_the_top_unless_marked_lazy():
    """An import inside a function says why (``# lazy:`` and its measured cost) above it."""
    unmarked = []
    for name, path in modules().items():
        source = path.read_text("utf-8")
        lines = source.splitlines()
        # a module-wide reason: a ``# lazy:`` comment before its first definition
        file_says = "\n# lazy:" in re.split(r"\n(?:def|class|@)", source, maxsplit=1)[0]
        tree = ast.parse(source)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                above = [ln.strip() for ln in lines[max(0, node.lineno - 8) : node.lineno - 1]]
                run = []
                for ln in reversed(above):  # the comment heads the run of imports it is in
                    run.append(ln)
                    if not ln.startswith(("from ", "import ", ")")) and not ln.endswith(","):
                        break
                if not (file_says or any(ln.startswith("# lazy:") for ln in run)):
                    unmarked.append(f"{name}:{node.lineno}")
    assert not unmarked, unmarked


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


def test_architecture_names_every_folder_and_module():
    """docs/architecture.md walks the stages in order and names every module by its path."""
    text = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    places = [text.index(f"`{folder}/`") for folder in FOLDERS]
    assert places == sorted(places), "the folders are not in the order data flows"
    for name, path in modules().items():
        if name in FRONT_DOOR or path.name == "__init__.py":
            continue
        assert f"`{path.relative_to(PKG).as_posix()}`" in text, f"{name} not in architecture.md"


#: A private name of cbsodata or highspy: an underscore module or attribute reached through
#: them, or the names the package once used (cbsodata's pager, highspy's C++ class).
_PRIVATE = re.compile(
    r"\b(?:cbsodata|highspy)(?:\.\w+)*\._\w|\bcbsodata3\b|_download_metadata|\b_core\b"
    r"|\b_Highs\b|from\s+(?:cbsodata|highspy)\S*\s+import\s+(?:\([^)]*)?\b_\w"
)


def test_no_private_attribute_of_cbsodata_or_highspy():
    """Only their public interfaces: a private one can change in any release."""
    caught = [
        "from cbsodata import cbsodata3 as _cbs",
        "_cbs._download_metadata(table)",
        "highspy._core._Highs",
        "from highspy import _Highs",
    ]
    assert all(_PRIVATE.search(line) for line in caught)  # the check can fail
    assert not _PRIVATE.search("highspy.Highs()  # public") and not _PRIVATE.search("h._x")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in PKG.rglob("*.py")
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if _PRIVATE.search(line)
    ]
    assert not found, found


def test_cli_is_thin():
    text = (PKG / "cli" / "commands.py").read_text("utf-8")
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
                # the replay server's and the client's own, which never reach a user
                inner = name in ("access.server", "access.odata_filter", "access.client")
                assert not bases & {"VibError", "Exception", "ValueError", "ConfigError"} or (
                    inner
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
    "estimation.estimate",
    "estimation.totals",
    "ranking.selection",
    "ranking.rank",
    "ranking.reference",
    "clean.regions",
    "render.provenance",
    "render.output",
    "geography.result",
    "workflow.pipeline",
    "workflow.run",
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


@pytest.mark.parametrize("module", sorted(m for m in STAGE_OF if not m.startswith("cli")))
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
    assert "vluchtelingen_in_beeld/render/templates/pitch.html.j2" in names
    assert "vluchtelingen_in_beeld/phrases.j2" in names
    assert "vluchtelingen_in_beeld/clean/cards/standaard.toml" in names
    # the selectieverkenner's script and the vendored solver, with its licence and sums
    for name in ("page.js", "programme.js", "solver.js", "explain.js", "format.js"):
        assert f"vluchtelingen_in_beeld/render/templates/verkenner/{name}" in names, name
    for name in ("highs.js", "highs.wasm.gz", "LICENSE", "VENDOR.toml"):
        assert f"vluchtelingen_in_beeld/render/vendor/highs-js/{name}" in names, name
