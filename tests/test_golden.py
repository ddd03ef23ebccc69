"""Golden cases: the selectieverkenner in Chromium and the Python programme, word for word.

One definition of the selection: the page gets its settings from the catalogue and its
words from phrases.j2, and re-solves the programme itself (HiGHS in WebAssembly). For more
than thirty settings (the card's, numbers of pilots, caps and floors, forcing, ρ fixed,
two per region, a minimum pool, a budget, and settings with no selection at all) the page's
selection, objective, prices, alternatives, every reason and every message must be what
Python computes (:func:`vluchtelingen_in_beeld.render.verkenner.answer`): the same characters.
"""

from __future__ import annotations

import numpy as np
import pytest

from vluchtelingen_in_beeld.ranking.selection import BUDGET_GAP
from vluchtelingen_in_beeld.render.verkenner import answer, render_verkenner

from .browser import offline_page

pytestmark = pytest.mark.xdist_group("verkenner")


def cases(rank2025) -> list[dict]:
    """The settings: each of a kind the page must get right."""
    r = rank2025.ranking
    pool = r.numbers.pool
    mid_pool = int(np.quantile(pool, 0.6))
    small_pool = rank2025.gemeente_name(r.frame.index[int(np.argmin(pool))])
    top = r.table.sort_values("bereik", ascending=False)["gemeentenaam"].tolist()
    return [
        {},  # the card's own
        {"n": 8},
        {"n": 15},
        {"n": 1, "min_per_landsdeel": None, "min_klein": None},
        {"include": ["Zwolle"]},
        {"include": ["Zwolle", "Maastricht"]},
        {"exclude": ["Amsterdam"]},
        {"exclude": ["Rotterdam", "Utrecht"], "include": ["Leiden"]},
        {"exclude": top[:5]},
        {"region_reach": 0.1},
        {"region_reach": 0.5},
        {"region_reach": 0.0},
        {"region_reach": 1.0},
        {"region_reach": 1.0, "max_per_regio": None},
        {"max_per_regio": 2},
        {"max_per_regio": 2, "region_reach": 0.3},
        {"max_per_provincie": 1},
        {"max_per_provincie": 3},
        {"max_per_provincie": None},
        {"min_per_landsdeel": 2},
        {"min_klein": 4},
        {"min_klein": 3, "klein_onder": 50_000},
        {"max_groot": 2},
        {"max_groot": 0},
        {"min_pool": mid_pool},
        {"min_pool": mid_pool, "n": 6, "region_reach": 0.2},
        {
            "max_per_provincie": None,
            "max_per_regio": None,
            "min_per_landsdeel": None,
            "min_klein": None,
        },  # fmt: skip
        {"budget": 3_000_000, "pilot_cost": 50_000, "n": 8},
        # no selection: each says why, as the command line does
        {"n": 3},  # four landsdelen need four
        {"n": 13, "max_per_provincie": 1},  # twelve provincies
        {
            "n": 2,
            "include": ["Zwolle", "Breda", "Assen"],
            "min_per_landsdeel": None,
            "min_klein": None,
        },  # fmt: skip
        {"min_pool": int(pool.max()) + 1},
        {"include": [small_pool], "min_pool": mid_pool},
        {"max_groot": 0, "include": ["Amsterdam"]},
        {"min_klein": 11, "klein_onder": 20_000, "max_per_provincie": 1},
    ]


#: Explain settings one after the other in the page (each a Promise of its answer).
EXPLAIN_ALL = """async (cases) => {
    const out = [];
    for (const s of cases) {
        try { out.push(await window.verkenner.explain(s)); }
        catch (e) { out.push({error: String(e && e.message || e)}); }
    }
    return out;
}"""


@pytest.fixture(scope="module")
def page_file(rank2025, tmp_path_factory):
    path = tmp_path_factory.mktemp("golden") / "verkenner.html"
    path.write_text(render_verkenner(rank2025), "utf-8")
    return path


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


@pytest.mark.slow
def test_golden_cases_agree_word_for_word(rank2025, page_file):
    settings = cases(rank2025)
    assert len(settings) >= 30
    want = [answer(rank2025, s) for s in settings]
    infeasible = [w for w in want if "infeasible" in w]
    assert len(infeasible) >= 5  # impossible settings, of several kinds
    assert len({tuple(w["infeasible"]["beperkingen"]) for w in infeasible}) >= 5
    with offline_page() as (page, log):
        page.goto(page_file.as_uri())
        page.evaluate("() => window.verkenner.ready")
        got = page.evaluate(EXPLAIN_ALL, settings)
        assert not log.errors and not log.blocked, (log.errors, log.blocked)
    for s, w, g in zip(settings, want, got, strict=True):
        assert "error" not in g, (s, g)
        if "infeasible" in w:
            assert g.get("infeasible") == w["infeasible"], s
            continue
        if "budget" in s:
            # with a budget both stop within BUDGET_GAP of the optimum (a subset-sum search
            # otherwise): they may end on different selections, equally good within it
            assert abs(g["objective"] - w["objective"]) <= BUDGET_GAP * w["objective"], s
            assert len(g["selected"]) == len(w["selected"]) == s["n"]
            assert len(g["reasons"]) == len(w["reasons"])
            # each re-solve starts from the same local search (Problem.neighbour and its
            # twin in programme.js), so the prices agree within the gap too
            assert set(g["prices"]) == set(w["prices"]), s
            for k, v in w["prices"].items():
                if v is not None:
                    assert abs(g["prices"][k] - v) <= BUDGET_GAP * w["objective"], (s, k)
            continue
        assert g["selected"] == w["selected"], s
        assert close(g["objective"], w["objective"], 1e-9), (s, g["objective"], w["objective"])
        assert set(g["prices"]) == set(w["prices"]), s
        for k, v in w["prices"].items():
            if v is None:
                assert g["prices"][k] is None, (s, k)
            else:
                assert abs(g["prices"][k] - v) <= 1e-6 * w["objective"], (s, k, g["prices"][k], v)
        assert g["alternatives"] == w["alternatives"], s
        assert set(g["reasons"]) == set(w["reasons"])
        wrong = {c: (w["reasons"][c], g["reasons"][c]) for c in w["reasons"]
                 if g["reasons"][c] != w["reasons"][c]}  # fmt: skip
        assert not wrong, (s, next(iter(wrong.items())))
