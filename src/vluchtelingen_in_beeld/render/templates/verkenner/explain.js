// Why the selection is what it is: explain.py's twin. Prices (each constraint, the
// constraints together, one pilot more and fewer), the loss of leaving each pick out, the
// real alternatives (the smallest loss if forced in, shortlisted by reduced costs and
// re-solved), interchangeable pairs from both sides, and one fact per gemeente for the
// `reden` macro of phrases.j2. The golden cases hold this file to the Python one.
VIB.explain = (() => {
  const D = VIB.D, G = D.gemeenten, P = VIB.programme;
  const M = P.M, K = P.K, regionOf = P.regionOf;
  const TIE_TOLERANCE = 1e-9, SHOWN_PARTNERS = 3;
  // explain.steady: people to a millionth, halves up, as an ordering key
  const steady = (x) => Math.floor((x || 0) * 1e6 + 0.5);
  const noStep = async () => {};

  // the share draws: the run's re-solved draws (rank's share_draws), ρ as the settings have it
  let drawJ = null, drawRho = null;
  function drawValues(rho) {
    if (!drawJ) {
      drawJ = new Float64Array(VIB.bytesOf(D.kans_draws.j).buffer);
      drawRho = new Float64Array(VIB.bytesOf(D.kans_draws.rho).buffer);
    }
    const n = D.kans_draws.n;
    const out = [];
    for (let d = 0; d < n; d++) {
      const r = rho !== null ? rho : drawRho[d];
      const j = drawJ.subarray(d * M, (d + 1) * M);
      const a = new Float64Array(M), b = new Float64Array(K);
      for (let i = 0; i < M; i++) { a[i] = (1 - r) * j[i]; b[regionOf[i]] += j[i]; }
      for (let k = 0; k < K; k++) b[k] *= r;
      out.push({ a, b });
    }
    return out;
  }
  const shareCache = new Map();
  function sharesOf(rho) {
    const key = rho === null ? "kaart" : String(rho);
    if (!shareCache.has(key)) shareCache.set(key, drawValues(rho));
    return shareCache.get(key);
  }
  function shares(base, alt, draws) {  // explain._shares
    let baseBetter = 0, altBetter = 0;
    for (const { a, b } of draws) {
      const x = P.objectiveOf(base, a, b), y = P.objectiveOf(alt, a, b);
      const tol = TIE_TOLERANCE * Math.max(Math.abs(x), 1);
      if (x - y > tol) baseBetter++;
      else if (x - y < -tol) altBetter++;
    }
    return [baseBetter / draws.length, altBetter / draws.length];
  }

  const byCode = (x, y) => (G.code[x] < G.code[y] ? -1 : G.code[x] > G.code[y] ? 1 : 0);
  const diff = (a, b) => [...a].filter((i) => !b.has(i));

  function price(name, gain, objective, came, went) {
    const g = Math.max(gain, 0);
    return { eis: name, prijs: g, aandeel: objective ? g / objective : NaN,
      bindend: gain > 1e-9 * Math.max(objective, 1), erin: came.sort((x, y) => x - y),
      eruit: went.sort((x, y) => x - y) };
  }
  function step(solved, objective, base, fewer) {
    const now = new Set(solved.chosen);
    const change = fewer ? objective - solved.objective : solved.objective - objective;
    return { prijs: change, aandeel: objective ? change / objective : NaN,
      erin: diff(now, base).sort((x, y) => x - y), eruit: diff(base, now).sort((x, y) => x - y) };
  }

  // explain.explain: prices, swaps, alternatives and pairs of a solved selection
  async function explain(s, nums, base, progress = noStep, owner = "page", pricesOnly = false) {
    const chosen = base.chosen.slice().sort((x, y) => x - y);
    const baseSet = new Set(chosen);
    const objective = base.objective;
    const draws = sharesOf(s.region_reach);
    const prices = [], movedIn = {}, movedOut = {};
    for (const name of P.active(s)) {
      const again = await P.trySolve(P.without(s, name), nums, owner, null, chosen);
      await progress();
      if (again === null) continue;
      const now = new Set(again.chosen);
      movedIn[name] = new Set(diff(now, baseSet));
      movedOut[name] = new Set(diff(baseSet, now));
      prices.push(price(name, again.objective - objective, objective, diff(now, baseSet), diff(baseSet, now)));
    }
    let free = null;
    if (P.active(s).some((k) => P.LIMITS.includes(k))) {
      const again = await P.trySolve(P.withoutLimits(s), nums, owner, null, chosen);
      await progress();
      if (again !== null) {
        free = new Set(again.chosen);
        prices.push(price("samen", again.objective - objective, objective, diff(free, baseSet), diff(baseSet, free)));
      }
    } else {
      free = new Set(baseSet);
    }
    const more = await P.trySolve({ ...s, n: s.n + 1 }, nums, owner, null, chosen);
    await progress();
    const fewer = s.n > 1 ? await P.trySolve({ ...s, n: s.n - 1 }, nums, owner, null, chosen) : null;
    await progress();
    prices.push({ eis: "n", meer: more === null ? null : step(more, objective, baseSet, false),
      minder: fewer === null ? null : step(fewer, objective, baseSet, true) });
    if (pricesOnly) return { chosen, objective, prices, movedIn, movedOut, free };

    const pr = P.problem(s, nums, owner);
    async function measure(kind, i) {
      const forced = kind === "eruit" ? { exclude: i } : { include: i };
      let solved;
      try { solved = await P.solveWith(pr, nums.a, nums.b, forced, chosen); } catch (e) { if (e instanceof P.Infeasible) return { kind, loss: null }; throw e; }
      await progress();
      const now = new Set(solved.chosen);
      const [baseBetter, altBetter] = shares(chosen, solved.chosen, draws);
      const loss = objective - solved.objective;
      const came = kind === "eruit" ? diff(now, baseSet) : diff(now, baseSet).filter((j) => j !== i);
      const went = kind === "eruit" ? diff(baseSet, now).filter((j) => j !== i) : diff(baseSet, now);
      return { kind, loss, came: came.sort((x, y) => x - y), went: went.sort((x, y) => x - y),
        baseBetter, altBetter, near: loss < D.near_loss * objective || altBetter >= D.near_draws,
        se: VIB.swapSE ? VIB.swapSE(chosen, solved.chosen, nums.rho) : NaN };
    }
    const swaps = new Map();
    for (const i of chosen) {
      if (pr.lb[i] > 0) continue;  // forced in: it cannot be left out
      swaps.set(i, await measure("eruit", i));
    }
    // the real alternatives: in order of the reduced-cost bound on their loss
    const candidates = [];
    for (let i = 0; i < M; i++) if (!baseSet.has(i) && pr.ub[i] > 0) candidates.push(i);
    const relaxed = await P.relax(pr, nums.a, nums.b);
    const bound = relaxed ? relaxed.bound : new Float64Array(M);
    let gap = 0;
    if (relaxed) {
      let tie = 0;
      for (const i of chosen) tie += G.j[i];
      gap = Math.max(relaxed.objective - (objective + D.tie * tie), 0);
    }
    const slack = gap + 1e-6 * Math.max(objective, 1);
    candidates.sort((x, y) => steady(bound[x]) - steady(bound[y]) || steady(nums.reach[y]) - steady(nums.reach[x]) || x - y);
    const limit = D.near_loss * objective;
    const losses = [];
    const complete = s.budget === null;  // with a budget: the near smallest bounds, no more
    for (const i of candidates) {
      if (losses.length >= D.near && !complete) break;
      if (losses.length >= D.near) {
        const kth = losses.slice().sort((x, y) => x - y)[D.near - 1];
        if (bound[i] - slack > Math.max(kth, limit)) break;
      }
      const sw = await measure("erin", i);
      swaps.set(i, sw);
      losses.push(sw.loss === null ? Infinity : sw.loss);
    }
    const partners = new Set();
    for (const sw of swaps.values()) if (sw.kind === "eruit" && sw.near) for (const j of sw.came) if (!baseSet.has(j)) partners.add(j);
    if (complete) {  // with a budget the pairs are told from the picks' swaps only
      for (const j of [...partners].sort((x, y) => x - y)) if (!swaps.has(j)) swaps.set(j, await measure("erin", j));
    }
    for (const j of [...partners]) if (!swaps.has(j)) partners.delete(j);
    const measured = [...swaps.entries()].filter(([i, sw]) => sw.kind === "erin" && sw.loss !== null && !baseSet.has(i)).map(([i]) => i);
    measured.sort((x, y) => steady(swaps.get(x).loss) - steady(swaps.get(y).loss) || steady(nums.reach[y]) - steady(nums.reach[x]) || x - y);
    const shown = new Set([...measured.slice(0, D.near), ...measured.filter((i) => swaps.get(i).loss < limit), ...partners]);
    const alternatives = measured.filter((i) => shown.has(i));
    return { chosen, objective, prices, movedIn, movedOut, free, swaps, alternatives,
      pairs: pairsOf(swaps, new Set(alternatives)), shareDraws: draws.length };
  }

  function pairsOf(swaps, alternatives) {  // explain._pairs
    const found = new Map();  // "pick,alt" -> swap
    const order = [...swaps.entries()].sort(([i, a], [j, b]) => (a.kind !== "eruit") - (b.kind !== "eruit") || i - j);
    for (const [i, sw] of order) {
      if (!sw.near || sw.loss === null) continue;
      let links;
      if (sw.kind === "eruit") links = sw.came.map((j) => [i, j]);
      else if (alternatives.has(i)) links = sw.went.map((j) => [j, i]);
      else continue;
      for (const [pick, alt] of links) {
        const key = `${pick},${alt}`;
        const old = found.get(key);
        if (!old || (old.sw.loss !== null && steady(sw.loss) < steady(old.sw.loss))) found.set(key, { pick, alt, sw });
      }
    }
    const out = new Map();
    for (const { pick, alt, sw } of found.values()) {
      if (!out.has(pick)) out.set(pick, new Map());
      if (!out.has(alt)) out.set(alt, new Map());
      out.get(pick).set(alt, sw);
      out.get(alt).set(pick, sw);
    }
    return out;
  }

  // explain.reason_facts: one fact per gemeente for `reden`
  function reasonFacts(s, nums, x, kans = null) {
    const base = new Set(x.chosen);
    const who = (idx) => [...idx].sort(byCode).map((j) => G.naam[j]);
    const onMerit = x.chosen.filter((i) => !s.include.includes(G.code[i]));
    let weakest = null;
    for (const i of onMerit) if (weakest === null || steady(nums.reach[i]) < steady(nums.reach[weakest]) || (steady(nums.reach[i]) === steady(nums.reach[weakest]) && i < weakest)) weakest = i;
    function pairFacts(i) {
      const partners = x.pairs.get(i);
      if (!partners || !partners.size) return null;
      const order = [...partners.keys()].sort((p, q) => steady(partners.get(p).loss) - steady(partners.get(q).loss) || byCode(p, q));
      const sw = partners.get(order[0]);
      return { met: order.slice(0, SHOWN_PARTNERS).map((j) => G.naam[j]), meer: Math.max(order.length - SHOWN_PARTNERS, 0),
        zelf_beter: base.has(i) ? sw.baseBetter : sw.altBetter, doorrekeningen: x.shareDraws,
        klein: sw.loss !== null && sw.loss < D.near_loss * x.objective, grens: D.near_loss };
    }
    const out = new Array(M);
    for (let i = 0; i < M; i++) {
      const code = G.code[i], sw = x.swaps.get(i);
      const f = { naam: G.naam[i], code, gekozen: base.has(i), werkzoekend: G.werkzoekend[i], bereik: nums.reach[i],
        vast: s.include.includes(code), eruit: null, erin: null, geen_wissel: base.has(i) && !!sw && sw.loss === null,
        paar: pairFacts(i), dankzij: [], dankzij_samen: false, buiten: "", buiten_eisen: [], regio: null, kleinste: null,
        kans: kans ? kans[i] : null };
      if (base.has(i)) {
        if (sw && sw.loss !== null) {
          f.eruit = { verlies: sw.loss, aandeel: x.objective ? sw.loss / x.objective : NaN, erin: who(sw.came), ook_eruit: who(sw.went) };
        }
        const ins = Object.keys(x.movedOut).filter((k) => x.movedOut[k].has(i) && !(k === "include" && f.vast));
        f.dankzij = ins.map((k) => P.fact(k, s));
        f.dankzij_samen = !ins.length && !f.vast && x.free !== null && !x.free.has(i);
      } else {
        if (sw && sw.loss !== null && x.alternatives.includes(i)) {
          f.erin = { verlies: sw.loss, aandeel: x.objective ? sw.loss / x.objective : NaN, eruit: who(sw.went) };
        }
        const singles = Object.keys(x.movedIn).filter((k) => x.movedIn[k].has(i));
        const same = x.chosen.filter((j) => regionOf[j] === regionOf[i]);
        if (s.exclude.includes(code)) f.buiten = "uitgesloten";
        else if (singles.length) { f.buiten = "eis"; f.buiten_eisen = singles.map((k) => P.fact(k, s)); }
        else if (x.free !== null && x.free.has(i)) f.buiten = "eisen";
        else if (same.length) { f.buiten = "regio"; f.regio = { naam: D.regios[regionOf[i]].naam, via: who(same), toevoeging: nums.a[i] }; }
        else if (weakest !== null && nums.reach[i] < nums.reach[weakest]) { f.buiten = "bereik"; f.kleinste = { naam: G.naam[weakest], bereik: nums.reach[weakest] }; }
        else f.buiten = "ook_zonder";
      }
      out[i] = f;
    }
    return out;
  }

  // explain.price_facts: gemeenten by name, constraints as facts
  function priceFacts(s, x) {
    const who = (idx) => [...idx].sort(byCode).map((j) => G.naam[j]);
    return x.prices.map((p) => {
      if (p.eis === "n") {
        const named = (q) => (q === null ? null : { ...q, erin: who(q.erin), eruit: who(q.eruit) });
        return { eis: { eis: "n", waarde: s.n, drempel: null, namen: [], reden: "" }, meer: named(p.meer), minder: named(p.minder) };
      }
      const eis = p.eis === "samen" ? { eis: "samen", waarde: null, drempel: null, namen: [], reden: "" } : P.fact(p.eis, s);
      return { ...p, eis, erin: who(p.erin), eruit: who(p.eruit) };
    });
  }
  return { explain, reasonFacts, priceFacts, sharesOf, noStep };
})();
