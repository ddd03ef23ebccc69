"""The gate `./dev test` runs before the tests: a lint, format or type error stops it.

Each case copies the project (its sources, tests, benchmarks, `dev` and `pyproject.toml`),
spoils one file in one way, and runs `./dev gate` there with this checkout's environment.
The gate must fail with the checker's own words, so `bash .ci/run` (which is `./dev test`)
fails before any test runs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "ruff check": ("\nimport os\n", "F401"),
    "ruff format": ("\n\nSPOILED  =  {'a':1}\n", "would be reformatted"),
    "mypy --strict": ('\n\ndef _spoiled() -> int:\n    return "not a number"\n', "return-value"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_gate_stops_on_a_lint_format_or_type_error(tmp_path, case):
    # `./dev` installs into .venv when pyproject.toml changed since; in the copy that would
    # point this checkout's environment at the copy, so the environment must be current
    stamp = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    if not (ROOT / ".venv" / f".installed-{stamp}").exists():
        pytest.fail("the .venv is older than pyproject.toml: run ./dev test, which updates it")
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("src", "tests", "benchmarks"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dev", "pyproject.toml"):
        shutil.copy2(ROOT / name, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    spoiled = copy / "src" / "vluchtelingen_in_beeld" / "fmt.py"
    text, says = CASES[case]
    spoiled.write_text(spoiled.read_text("utf-8") + text, "utf-8")
    run = subprocess.run(
        ["bash", "dev", "gate"], cwd=copy, capture_output=True, text=True, timeout=600
    )
    said = run.stdout + run.stderr
    assert run.returncode != 0, f"the gate passed a {case} error:\n{said}"
    assert says in said and "fmt.py" in said, said
