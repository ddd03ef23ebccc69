"""The selectieverkenner: the page re-solves `vib rank`'s programme in Chromium, offline.

The page is opened from a real snapshot run with every network request blocked; settings
are made through its own controls and compared with `vib rank` run with the command line the
page writes; `window.verkenner.solve` is compared with the Python programme on the same
numbers for random settings; an infeasible setting names its constraint as the CLI does.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vluchtelingen_in_beeld.cli import main
from vluchtelingen_in_beeld.defaults import setting_name
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.pipeline import with_region_reach
from vluchtelingen_in_beeld.rank import _prices, programme_numbers
from vluchtelingen_in_beeld.selection import Constraints, try_solve, why_infeasible
from vluchtelingen_in_beeld.verkenner import SETTINGS, _json_for_script

from .browser import artifact, offline_page
from .conftest import cli, doctored_snapshot

pytestmark = pytest.mark.xdist_group("verkenner")

#: The page's settings (the CLI's flag names) -> the Constraints field.
FIELD = {**SETTINGS}
NAMES = ("n", *(k for k in SETTINGS if k not in ("n", "include", "exclude")))


@pytest.fixture(scope="module")
def run(statline, tmp_path_factory):
    """`vib run` on the shared snapshot (2025, the standard card)."""
    root = tmp_path_factory.mktemp("verkenner")
    env = {"VIB_DATA_DIR": str(root / "store")}
    out = root / "run"
    r = cli("run", "--year", "2025", "--snapshot", str(statline), "--out", str(out), env=env)
    assert r.exit_code == 0, r.output
    return {"out": out, "env": env, "root": root, "page": out / "verkenner.html"}


# --- the vendored solver ------------------------------------------------------------------


def test_vendored_solver_matches_its_checksums():
    root = resources.files("vluchtelingen_in_beeld") / "vendor/highs-js"
    info = tomllib.loads((root / "VENDOR.toml").read_text("utf-8"))
    assert info["name"] == "highs" and info["licence"] == "MIT"
    assert set(info["sha256"]) == {"highs.js", "highs.wasm", "LICENSE"}
    for name, digest in info["sha256"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    assert "MIT License" in (root / "LICENSE").read_text("utf-8")
    assert (root / "highs.wasm").read_bytes()[:4] == b"\0asm"


def test_settings_are_the_cli_flags_of_every_constraint():
    # every field of Constraints can be set from the page (and so from the hook), by the
    # name of its flag on `vib rank`
    from dataclasses import fields

    flags = {p.name for p in main.commands["rank"].params}
    assert set(FIELD.values()) == {f.name for f in fields(Constraints)} - {"reasons"}
    assert set(FIELD) <= flags


def test_json_in_the_page_cannot_close_its_script():
    text = _json_for_script({"naam": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["naam"].startswith("</script>")


# --- the run's page -------------------------------------------------------------------------


def wait_answer(page, before: int, states=("klaar", "onhaalbaar")) -> dict:
    """Wait until the page has answered a change (its counter moved), then read the answer."""
    page.wait_for_function(
        "([n, states]) => { const r = document.getElementById('resultaat');"
        " return Number(r.dataset.solve) > n && states.includes(r.dataset.state); }",
        arg=[before, list(states)],
        timeout=60_000,
    )
    return page.evaluate(READ)


#: What a test reads of the page's answer.
READ = """() => {
    const $ = (id) => document.getElementById(id);
    const bad = $('onhaalbaar');
    return {
        state: $('resultaat').dataset.state,
        solve: Number($('resultaat').dataset.solve),
        objective: $('doel') ? Number($('doel').dataset.waarde) : null,
        selected: [...document.querySelectorAll('#selectie tbody tr')]
            .map((r) => r.dataset.code).sort(),
        command: $('opdracht').textContent,
        infeasible: bad.hidden ? null
            : {text: bad.textContent, names: bad.dataset.beperkingen.split(',')},
        status: $('status').textContent,
    };
}"""


def counter(page) -> int:
    return int(page.get_attribute("#resultaat", "data-solve"))


def set_number(page, field: str, value: str) -> dict:
    before = counter(page)
    page.fill(f"#{field}", value)
    page.dispatch_event(f"#{field}", "change")
    return wait_answer(page, before)


def reset(page) -> dict:
    before = counter(page)
    page.click("#naar-run")
    return wait_answer(page, before)


def rank_objective(command: str, statline: Path, run: dict, name: str) -> tuple[float, list[str]]:
    """Run the page's `vib rank …` command line; its objective and selection."""
    args = command.split()
    assert args[:2] == ["vib", "rank"], command
    args = [str(statline) if a == "SNAPSHOT" else a for a in args[2:]]
    out = run["root"] / f"{name}.csv"
    r = cli("rank", *args, "--out", str(out), env=run["env"])
    assert r.exit_code == 0, r.output
    rec = json.loads(out.with_name(out.name + ".manifest.json").read_text("utf-8"))
    import pandas as pd

    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"gemeentecode": str})
    chosen = sorted(table.loc[table["geselecteerd"].astype(bool), "gemeentecode"])
    return float(rec["objective"]), chosen


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


@pytest.mark.slow
def test_page_controls_give_vib_ranks_objective(run, statline, rank2025):
    """Six settings through the page's own controls; each is `vib rank` with the page's flags."""
    page_file = run["page"]
    assert page_file.exists()
    index = (run["out"] / "index.html").read_text("utf-8")
    assert 'href="verkenner.html"' in index
    results = {}
    with offline_page((1400, 1000)) as (page, log):
        page.goto(page_file.as_uri())
        page.evaluate("() => window.verkenner.ready")
        results["default"] = wait_answer(page, 0)
        page.screenshot(path=str(artifact("verkenner.png")))
        top = page.get_attribute("#selectie tbody tr:first-child", "data-code")

        # include Zwolle: the search box resolves the name as the CLI does
        before = counter(page)
        page.fill("#zoek", "zwolle")
        page.click("#zoek-vast")
        results["include_zwolle"] = wait_answer(page, before)
        assert page.locator("#vastgezet li[data-code=GM0193]").count() == 1
        reset(page)

        # exclude the top pick: two clicks on its area (free -> in -> out)
        for _ in range(2):
            before = counter(page)
            page.locator(f"#kaart path[data-code={top}]").dispatch_event("click")
            results["exclude_top"] = wait_answer(page, before)
        assert page.locator(f"#uitgesloten li[data-code={top}]").count() == 1
        reset(page)

        results["provincie_3"] = set_number(page, "max_per_provincie", "3")
        reset(page)
        results["n_8"] = set_number(page, "n", "8")
        reset(page)
        page.check("#rho-vast")
        results["rho_low"] = set_number(page, "region_reach", "0.1")
        results["rho_high"] = set_number(page, "region_reach", "0.5")
        assert not log.errors and not log.blocked, (log.errors, log.blocked)

    # the page's numbers are the run's: its default objective is the Python ranking's
    assert close(results["default"]["objective"], rank2025.ranking.objective, 1e-12)
    assert "--include GM0193" in results["include_zwolle"]["command"]
    assert f"--exclude {top}" in results["exclude_top"]["command"]
    assert "--max-per-provincie 3" in results["provincie_3"]["command"]
    assert "--n 8" in results["n_8"]["command"]
    assert "--region-reach 0.1" in results["rho_low"]["command"]
    assert "--region-reach 0.5" in results["rho_high"]["command"]
    objectives = set()
    for name, res in results.items():
        assert res["state"] == "klaar", (name, res["status"])
        objective, chosen = rank_objective(res["command"], statline, run, name)
        assert close(res["objective"], objective), (name, res["objective"], objective)
        assert res["selected"] == chosen or close(res["objective"], objective), name
        objectives.add(round(objective, 3))
    # the settings are not all the same answer (a page that ignored its controls would pass)
    assert len(objectives) == len(results)
    assert top in results["default"]["selected"] and top not in results["exclude_top"]["selected"]
    assert "GM0193" in results["include_zwolle"]["selected"]


def random_settings(rng: random.Random, codes: list[str], pool: np.ndarray) -> dict:
    s: dict = {"n": rng.randint(4, 16)}
    s["max_per_provincie"] = rng.choice([None, 1, 2, 3, 4])
    s["max_per_regio"] = rng.choice([None, 1, 1, 2])
    s["min_per_landsdeel"] = rng.choice([None, 0, 1, 2])
    s["min_klein"] = rng.choice([None, 0, 1, 2, 3])
    s["klein_onder"] = rng.choice([50_000, 100_000])
    s["max_groot"] = rng.choice([None, None, 1, 3])
    s["groot_boven"] = rng.choice([150_000, 200_000])
    s["min_pool"] = rng.choice([None, None, int(np.quantile(pool, 0.5))])
    s["region_reach"] = rng.choice([None, round(rng.random(), 2), 0.0, 1.0])
    top = codes[:60]
    s["include"] = rng.sample(top, rng.choice([0, 0, 1, 2]))
    s["exclude"] = rng.sample([c for c in top if c not in s["include"]], rng.choice([0, 1, 2]))
    return s


def python_programme(rank2025, s: dict):
    """The Python programme on the same numbers: (selected codes, objective, prices)."""
    est, frame = rank2025.estimate, rank2025.ranking.problem.frame
    card = est.card
    if s.get("region_reach") is not None:
        card = with_region_reach(card, s["region_reach"])
    nums = programme_numbers(replace(est, card=card), frame)
    overrides = {
        FIELD[k]: tuple(v) if k in ("include", "exclude") else v
        for k, v in s.items()
        if k != "region_reach"
    }
    c = Constraints.from_card(card, **overrides)
    c.check()
    problem = nums.problem(frame, c)
    solved = try_solve(problem, nums.values)
    if solved is None:
        return None, c, nums, frame
    idx, obj = solved
    chosen = set(frame.index[idx])
    prices, _, _ = _prices(problem, nums.values, obj, chosen)
    return (sorted(chosen), obj, prices), c, nums, frame


#: Solve settings one after the other in the page (each a Promise of its answer).
SOLVE_ALL = """async (cases) => {
    const out = [];
    for (const s of cases) out.push(await window.verkenner.solve(s));
    return out;
}"""

#: Constraint names in an infeasibility message of the CLI (the `n` only when backquoted).
MENTIONED = re.compile(
    r"\b(max_per_provincie|max_per_regio|min_per_landsdeel|min_klein|max_groot|min_pool|budget_eur|include|exclude)\b|`n`"
)


@pytest.mark.slow
def test_solve_hook_matches_the_python_programme(run, rank2025):
    """`window.verkenner.solve` on 20 random feasible settings (and some infeasible ones)."""
    ranking = rank2025.ranking
    order = ranking.table.sort_values("bereik", ascending=False)["gemeentecode"].tolist()
    rng = random.Random(23)
    cases, infeasible = [], []
    while len(cases) < 20:
        s = random_settings(rng, order, ranking.numbers.pool)
        if len(cases) in (5, 12):  # a budget: a knapsack row (branch and bound in both)
            s.update(budget=4_000_000.0, pilot_cost=50_000.0, max_per_regio=1, n=8)
        try:
            py, c, nums, frame = python_programme(rank2025, s)
        except ConfigError:
            continue
        if py is None:
            if len(infeasible) < 4:
                infeasible.append(
                    (s, why_infeasible(frame, c, nums.values, pool=nums.pool, cost=nums.cost(c)))
                )
            continue
        cases.append((s, py))
    # ties: at ρ = 1 every member of a region is worth the region, and own job-seekers decide
    edges = [
        {"region_reach": 1.0},
        {"region_reach": 1.0, "max_per_regio": 2},
        {"region_reach": 0.0},
    ]
    exact = []
    for s in edges:
        py, *_ = python_programme(rank2025, s)
        exact.append((s, py))
    assert any(s["region_reach"] is None for s, _ in cases)
    assert any(s["region_reach"] not in (None,) for s, _ in cases)
    assert any(s["max_per_regio"] != 1 for s, _ in cases)  # the region columns (y) are used
    assert len(infeasible) >= 2
    with offline_page() as (page, log):
        page.goto(run["page"].as_uri())
        page.evaluate("() => window.verkenner.ready")
        answers = page.evaluate(
            SOLVE_ALL,
            [s for s, _ in cases],
        )
        why = page.evaluate(
            SOLVE_ALL,
            [s for s, _ in infeasible],
        )
        tied = page.evaluate(
            SOLVE_ALL,
            edges,
        )
        assert not log.errors, log.errors
    for (s, (chosen, obj, prices)), got in zip(cases, answers, strict=True):
        assert close(got["objective"], obj), (s, got["objective"], obj)
        assert got["selected"] == chosen or close(got["objective"], obj), s
        want = {setting_name(r.beperking): r.prijs for r in prices.itertuples()}
        assert set(got["prices"]) == set(want), s
        for k, v in want.items():
            assert abs(got["prices"][k] - v) <= 1e-6 * obj, (s, k, got["prices"][k], v)
    for (s, (chosen, obj, _prices_py)), got in zip(exact, tied, strict=True):
        assert got["selected"] == chosen and close(got["objective"], obj), s
    for (s, message), got in zip(infeasible, why, strict=True):
        assert got["objective"] is None and got["selected"] == []
        said = {m.group(1) or "n" for m in MENTIONED.finditer(message)}
        names = {FIELD.get(k, k) for k in got["infeasible"]["beperkingen"]}
        assert names == said, (s, message, got["infeasible"])


@pytest.mark.slow
def test_swaps_and_their_error_are_the_rankings(run, rank2025):
    """Default settings: each swap's loss, partner, standard error and "uitwisselbaar"."""
    with offline_page() as (page, log):
        page.goto(run["page"].as_uri())
        page.evaluate("() => window.verkenner.ready")
        got = page.evaluate("() => window.verkenner.explain({})")
        assert not log.errors, log.errors
    table = rank2025.ranking.table.set_index("gemeentecode")
    objective = rank2025.ranking.objective
    measured = table[table["verlies_als_eruit"].notna() | table["verlies_als_erin"].notna()]
    assert set(got["swaps"]) == set(measured.index)
    near = 0
    for code, r in measured.iterrows():
        w = got["swaps"][code]
        out = pd.notna(r["verlies_als_eruit"])
        loss = r["verlies_als_eruit"] if out else r["verlies_als_erin"]
        partner = r["vervanger"] if out else r["valt_af"]
        assert w["kind"] == ("eruit" if out else "erin")
        assert abs(w["lost"] - loss) <= 1e-6 * objective, (code, w["lost"], loss)
        assert "; ".join(w["erin" if out else "eruit"]) == partner, code
        # the error from the covariance of the draws is the error from the draws themselves
        assert w["se"] == pytest.approx(r["verschil_se"], rel=1e-3), code
        if abs(loss - r["verschil_se"]) > 1e-3 * r["verschil_se"]:
            assert w["near"] == bool(r["uitwisselbaar"]), code
        near += bool(r["uitwisselbaar"])
    assert 0 < near < len(measured)  # both kinds occur, so the test can tell them apart
    # each reason is the ranking's, but for the share of draws it names (not in the page)
    for code in measured.index:
        reden = without_near(table.loc[code, "reden"]).split("; kans gekozen")[0]
        mine = without_near(got["reasons"][code]).rstrip(".")
        assert mine == reden, (code, mine, reden)
        near_said = "(uitwisselbaar: het " in got["reasons"][code]
        assert near_said == bool(table.loc[code, "uitwisselbaar"]), code


def without_near(text: str) -> str:
    """A reason without its "(uitwisselbaar: …)" clause (which may hold "Hengelo (O.)")."""
    start = text.find(" (uitwisselbaar: ")
    if start < 0:
        return text
    depth, end = 0, start + 1
    for end in range(start + 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            break
    return text[:start] + text[end + 1 :]


@pytest.mark.slow
def test_kans_recount_is_the_runs_for_its_settings_and_moves_with_them(run, rank2025):
    table = rank2025.ranking.table.set_index("gemeentecode")["kans_geselecteerd"]
    with offline_page() as (page, log):
        page.goto(run["page"].as_uri())
        page.evaluate("() => window.verkenner.ready")
        wait_answer(page, 0)
        shown = page.evaluate("() => window.verkenner.chances()")  # the run's own
        assert shown == pytest.approx(table.to_dict(), abs=1e-12)
        page.fill("#zoek", "Zwolle")
        before = counter(page)
        page.click("#zoek-vast")
        wait_answer(page, before)
        # other settings: the run's chances are not theirs, so the page shows none
        kans_cells = "rs => rs.map(r => r.children[7].textContent)"
        assert set(page.eval_on_selector_all("#selectie tbody tr", kans_cells)) == {""}
        page.click("#naar-run")
        page.wait_for_function("document.getElementById('resultaat').dataset.state === 'klaar'")
        before = counter(page)
        page.click("#kans-knop")
        page.wait_for_selector("#kans-voortgang:not([hidden])", state="attached")
        wait_answer(page, before)
        assert page.inner_text("#kans-status").startswith("klaar: 500")
        again = page.evaluate("() => window.verkenner.chances()")
        assert "" not in page.eval_on_selector_all("#selectie tbody tr", kans_cells)
        assert not log.errors, log.errors
    # re-solved per draw on the same draws: the run's chances (a float's tie may differ)
    diff = np.abs(np.array([again[c] for c in table.index]) - table.to_numpy())
    assert (diff == 0).mean() > 0.99 and diff.max() <= 2 / 500


@pytest.mark.slow
def test_infeasible_setting_says_why_and_the_page_recovers(run):
    with offline_page() as (page, log):
        page.goto(run["page"].as_uri())
        page.evaluate("() => window.verkenner.ready")
        first = wait_answer(page, 0)
        bad = set_number(page, "n", "3")  # four landsdelen need at least four pilots
        assert bad["state"] == "onhaalbaar"
        assert bad["infeasible"]["names"] == ["n", "min_per_landsdeel"]
        assert (
            "landsdelen" in bad["infeasible"]["text"] and "vraagt er 4" in bad["infeasible"]["text"]
        )
        assert bad["selected"] == []
        # a cap that leaves too few: named with its numbers
        reset(page)
        capped = set_number(page, "max_per_provincie", "1")
        capped = set_number(page, "n", "13")
        assert capped["infeasible"]["names"] == ["max_per_provincie", "n"], capped
        assert "hoogstens 12 gemeenten" in capped["infeasible"]["text"]
        # and the page keeps working
        again = reset(page)
        assert again["state"] == "klaar" and again["objective"] == first["objective"]
        assert again["selected"] == first["selected"]
        assert not log.errors, log.errors


@pytest.mark.slow
def test_a_browser_without_workers_solves_in_the_page(run, rank2025):
    with offline_page() as (page, log):
        page.add_init_script("window.Worker = function () { throw new Error('no workers'); };")
        page.goto(run["page"].as_uri())
        page.evaluate("() => window.verkenner.ready")
        first = wait_answer(page, 0)
        assert "in de pagina zelf" in page.text_content("#solver-versie")
        assert close(first["objective"], rank2025.ranking.objective, 1e-12)
        assert not log.errors, log.errors
    with offline_page() as (page, log):
        page.goto(run["page"].as_uri())
        page.evaluate("() => window.verkenner.ready")
        assert "in een Web Worker" in page.text_content("#solver-versie")


@pytest.mark.slow
def test_bad_settings_and_bad_links_leave_nothing_stale(run):
    with offline_page() as (page, log):
        page.goto(run["page"].as_uri() + "#v=1&include=GM0363&exclude=GM0363")
        page.evaluate("() => window.verkenner.ready")
        first = wait_answer(page, 0)
        # a link that cannot be right: said, and the page opens at the run's settings
        assert first["state"] == "klaar" and len(first["selected"]) == 11
        assert "niet te lezen" in page.inner_text("#onhaalbaar")
        assert page.locator("#vastgezet li[data-code]").count() == 0
        # an impossible number: an error, and no earlier answer left under it
        before = counter(page)
        page.fill("#n", "0")
        page.dispatch_event("#n", "change")
        bad = wait_answer(page, before, states=("fout",))
        assert bad["selected"] == [] and bad["objective"] is None
        assert "kloppen niet" in page.inner_text("#onhaalbaar")
        assert page.locator("#kaart path.gekozen").count() == 0
        page.click("#deel")
        assert "Verbeter eerst" in page.inner_text("#deel-link")
        # forcing a gemeente in from the search box: the box says what it is now
        set_number(page, "n", "11")
        page.fill("#zoek", "Zwolle")
        before = counter(page)
        page.click("#zoek-vast")
        wait_answer(page, before)
        assert "Vastgezet" in page.inner_text("#info")
        page.fill("#zoek", "Bergen")
        page.press("#zoek", "Enter")
        assert "past bij 2 gemeenten" in page.inner_text("#zoek-melding")
        assert "Zwolle" not in page.inner_text("#info")
        assert not log.errors, log.errors


@pytest.mark.slow
def test_names_in_the_page_are_text(statline, geo_folder, tmp_path):
    """A gemeente named with a <script> in a doctored snapshot is shown, never run."""
    evil = "Groningen<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=2>"

    def rename(regions):
        for r in regions:
            if r["Key"].strip() == "GM0014":
                r["Title"] = evil
        return regions

    snap = doctored_snapshot(statline, tmp_path / "snap", files={"85458NED/RegioS.json": rename})
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    out = tmp_path / "verkenner.html"
    r = cli(
        "verken",
        "--year",
        "2025",
        "--snapshot",
        str(snap),
        "--draws",
        "200",
        "--boundaries",
        str(geo_folder),
        "--out",
        str(out),
        env=env,
    )
    assert r.exit_code == 0, r.output
    html = out.read_text("utf-8")
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    with offline_page() as (page, log):
        page.goto(out.as_uri())
        page.evaluate("() => window.verkenner.ready")
        wait_answer(page, 0)
        assert page.evaluate("() => window.__pwned") is None
        labels = page.eval_on_selector_all("#labels text", "ts => ts.map(t => t.textContent)")
        assert evil in labels  # Groningen is chosen: its name is a label, as text
        assert page.locator("#kaart img").count() == 0
        page.fill("#zoek", "GM0014")
        page.click("#zoek-vast")
        assert evil in page.inner_text("#vastgezet")
        assert not log.blocked, log.blocked
    rec = json.loads(out.with_name(out.name + ".manifest.json").read_text("utf-8"))
    assert rec["kind"] == "verkenner" and rec["solver"]["package"] == "highs"


def test_verken_refuses_a_page_that_is_not_html(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    out = tmp_path / "verkenner.csv"
    r = CliRunner().invoke(
        main, ["verken", "--snapshot", str(statline), "--out", str(out)], env=env
    )
    assert r.exit_code == 1 and ".html" in r.output
    assert not out.exists() and not list(tmp_path.glob("verkenner.csv*"))
