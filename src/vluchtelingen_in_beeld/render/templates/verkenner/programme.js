// The programme of `vib rank` (selection.Problem): settings read against the catalogue
// (catalogue.py, carried as data), the numbers per ρ (rank.ProgrammeNumbers), the rows, the
// LP relaxation and branch and bound, and why no selection exists (selection.why_infeasible).
VIB.programme = (() => {
  const D = VIB.D, G = D.gemeenten, F = VIB.format;
  const M = G.code.length, K = D.regios.length, P = D.provincies.length, L = D.landsdelen.length;
  const INDEX = new Map(G.code.map((c, i) => [c, i]));
  const CATALOGUE = D.catalogus;                       // catalogue.SETTINGS, in order
  const BY_NAME = new Map(CATALOGUE.map((s) => [s.name, s]));
  const BY_FIELD = new Map(CATALOGUE.map((s) => [s.field, s]));
  const KEYS = [...CATALOGUE.map((s) => s.name), "region_reach"];
  const LIMITS = CATALOGUE.filter((s) => s.limit).map((s) => s.name);
  const regionOf = Int32Array.from(G.regio);

  // --- names as the command line resolves them (names.py) ----------------------------------
  const MAX_NAME = 200;  // a name or code longer than any gemeente's is refused, not matched
  function normalise(text) {
    const plain = String(text).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    return plain.replace(/[^0-9a-z]+/g, " ").trim().split(/\s+/).filter(Boolean).join(" ");
  }
  const label = (i) => `${G.naam[i]} (${G.code[i]})`;
  function similarity(a, b) {  // Sørensen–Dice on letter pairs: enough for "bedoelt u"
    const pairs = (s) => { const out = []; for (let i = 0; i < s.length - 1; i++) out.push(s.slice(i, i + 2)); return out; };
    const pa = pairs(a), pb = pairs(b);
    if (!pa.length || !pb.length) return 0;
    const rest = pb.slice(); let hit = 0;
    for (const p of pa) { const j = rest.indexOf(p); if (j >= 0) { hit++; rest.splice(j, 1); } }
    return (2 * hit) / (pa.length + pb.length);
  }
  function resolve(text) {
    const raw = String(text).trim();
    if (!raw) throw new Error("Geef een naam of een code.");
    if (raw.length > MAX_NAME) throw new Error(`Een naam van ${F.nlInt(raw.length)} tekens is geen gemeente; de langste naam heeft er ${Math.max(...G.naam.map((n) => n.length))}.`);
    const m = raw.match(/^(gm)?\s*(\d{1,4})$/i);
    if (m) {
      const code = "GM" + m[2].padStart(4, "0");
      if (!INDEX.has(code)) throw new Error(`Geen gemeente met code ${code} in de lijst van ${M} gemeenten van ${D.jaar}; probeer de naam.`);
      return code;
    }
    let key = normalise(raw);
    key = D.namen.aliases[key] || key;
    for (const index of [D.namen.full, D.namen.base]) {
      const hits = Object.prototype.hasOwnProperty.call(index, key) ? index[key] : [];
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) {
        throw new Error(`"${raw}" past bij ${hits.length} gemeenten: ${F.nlList(hits.slice().sort().map((c) => label(INDEX.get(c))))}. Geef de volledige naam of de code.`);
      }
    }
    const close = G.naam.map((n, i) => [similarity(key, normalise(n)), i])
      .filter(([s]) => s >= 0.5).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, i]) => label(i));
    const or = close.length > 1 ? close.slice(0, -1).join(", ") + " of " + close[close.length - 1] : close.join("");
    throw new Error(`Geen gemeente "${raw}" in de lijst van ${M} gemeenten.` +
      (close.length ? ` Bedoelt u ${or}?` : "") + " Een CBS-code zoals GM0363 kan ook.");
  }

  // --- settings: the catalogue's names, bounds and words ----------------------------------
  function clean(settings) {
    // a settings object with the CLI's flag names (dashes or underscores, "--" or not)
    const out = JSON.parse(JSON.stringify(D.standaard));
    for (const [rawKey, value] of Object.entries(settings || {})) {
      const key = rawKey.replace(/^--/, "").replace(/-/g, "_");
      if (!KEYS.includes(key)) throw new Error(`Onbekende instelling "${String(rawKey).slice(0, 40)}"; bekend: ${KEYS.join(", ")}.`);
      const setting = BY_NAME.get(key);
      if (setting && setting.kind === "gemeenten") {
        const list = Array.isArray(value) ? value : value ? [value] : [];
        if (list.length > M) throw new Error(`Meer gemeenten (${F.nlInt(list.length)}) dan er zijn (${M}).`);
        out[key] = [...new Set(list.map(resolve))];
      } else if (value === null || value === "none" || value === undefined) {
        if (setting && !setting.optional) throw new Error(`${describeSetting(key)} kan niet uit.`);
        out[key] = null;
      } else {
        if (typeof value !== "number" && String(value).trim() === "") throw new Error(`${describeSetting(key)}: geef een getal.`);
        const v = typeof value === "number" ? value : number(value);
        if (!Number.isFinite(v)) throw new Error(`${describeSetting(key)}: "${String(value).slice(0, 40)}" is geen getal.`);
        out[key] = v;
      }
    }
    return out;
  }
  function describeSetting(key) {  // the Dutch name of a setting in a message (catalogue label)
    const text = key === "region_reach" ? "het bereik in de regio" : BY_NAME.get(key).label;
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function number(value) {  // a number typed or linked: 0,25 or 0.25; 100.000 or 100000
    const text = String(value).trim();
    if (/^[+-]?\d{1,3}(\.\d{3})+$/.test(text)) return Number(text.replace(/\./g, ""));
    if (/^[+-]?\d{1,3}(\.\d{3})*,\d+$/.test(text)) return Number(text.replace(/\./g, "").replace(",", "."));
    return text === "" ? NaN : Number(text.replace(",", "."));
  }
  function check(s) {  // the catalogue's bounds (catalogue.check_value), said in Dutch
    for (const setting of CATALOGUE) {
      if (setting.kind === "gemeenten") continue;
      const v = s[setting.name];
      if (v === null) {
        if (!setting.optional) throw new Error(`${describeSetting(setting.name)} kan niet uit.`);
        continue;
      }
      if (setting.integer && !Number.isInteger(v)) throw new Error(`${describeSetting(setting.name)}: ${F.nlNum(v)} is geen geheel getal.`);
      if (!(v >= setting.minimum && v <= setting.maximum)) {
        throw new Error(`${describeSetting(setting.name)} moet van ${F.nlInt(setting.minimum)} tot ${F.nlInt(setting.maximum)} zijn (nu ${F.nlNum(v)}).`);
      }
    }
    if (s.min_klein && s.max_groot !== null && s.klein_onder > s.groot_boven) {
      throw new Error(`De grens voor klein (${F.nlInt(s.klein_onder)}) ligt boven die voor groot (${F.nlInt(s.groot_boven)}): een gemeente zou klein en groot tegelijk zijn.`);
    }
    if (s.region_reach !== null && !(s.region_reach >= 0 && s.region_reach <= 1)) {
      throw new Error(`Het bereik in de regio is een aandeel van 0 tot 1 (nu ${F.nlNum(s.region_reach)}).`);
    }
    const both = s.include.filter((c) => s.exclude.includes(c));
    if (both.length) throw new Error(`${F.nlList(both.map((c) => G.naam[INDEX.get(c)]))} is zowel vastgezet als uitgesloten; kies één.`);
  }
  // a constraint as a fact for the one renderer (Constraints.fact)
  function fact(key, s) {
    const setting = BY_NAME.get(key);
    let value = s[key], names = [];
    if (key === "include" || key === "exclude") {
      names = s[key].map((c) => G.naam[INDEX.get(c)]);
      value = names.length;
    }
    return { eis: setting.field, waarde: value, drempel: setting.threshold ? s[BY_FIELD.get(setting.threshold).name] : null,
      namen: names, reden: reasonOf(key, s) };
  }
  function reasonOf(k, s) {  // why a constraint is there: the card's reason, unless set here
    if (k === "include" || k === "exclude") return k === "include" ? "vastgezet" : "uitgesloten";
    const setting = BY_NAME.get(k);
    const along = setting && setting.threshold ? [BY_FIELD.get(setting.threshold).name] : k === "budget" ? ["pilot_cost"] : [];
    const same = [k, ...along].every((x) => JSON.stringify(s[x]) === JSON.stringify(D.standaard[x]));
    return same ? D.redenen[k] || "" : "opgegeven bij het aanroepen, niet uit de methodekaart";
  }
  function active(s) {  // Constraints.active(): the card's limits that are on, then forcing
    // a floor of 0 asks for nothing (off); a cap of 0 large gemeenten binds (on)
    const out = LIMITS.filter((k) => (k === "max_groot" ? s[k] !== null : s[k] !== null && s[k] !== 0));
    for (const k of ["include", "exclude"]) if (s[k].length) out.push(k);
    return out;
  }
  function copy(s) { return { ...s, include: s.include.slice(), exclude: s.exclude.slice() }; }
  function without(s, name) {
    const out = copy(s);
    out[name] = name === "include" || name === "exclude" ? [] : null;
    return out;
  }
  function withoutLimits(s) {
    const out = copy(s);
    for (const k of LIMITS) out[k] = null;
    return out;
  }

  // --- the programme's numbers (rank.ProgrammeNumbers) ---------------------------------------
  function regionSum(x) {
    const out = new Float64Array(K);
    for (let i = 0; i < M; i++) out[regionOf[i]] += x[i];
    return out;
  }
  const cache = new Map();
  function numbers(rho) {
    const key = rho === null ? "kaart" : String(rho);
    if (cache.has(key)) return cache.get(key);
    let a, b, pool, spend;
    if (rho === null) {
      a = Float64Array.from(G.a); b = Float64Array.from(D.b);
      pool = Float64Array.from(G.pool); spend = Float64Array.from(G.kost);
    } else {  // ρ fixed: every mean is linear in ρ (verkenner.py)
      const jr = regionSum(G.j), cr = regionSum(G.jconv), kr = regionSum(G.jkost);
      a = new Float64Array(M); b = new Float64Array(K); pool = new Float64Array(M); spend = new Float64Array(M);
      for (let i = 0; i < M; i++) {
        a[i] = (1 - rho) * G.j[i];
        pool[i] = ((1 - rho) * G.jconv[i] + rho * cr[regionOf[i]]) / D.periode_jaren;
        spend[i] = (1 - rho) * G.jkost[i] + rho * kr[regionOf[i]];
      }
      for (let r = 0; r < K; r++) b[r] = rho * jr[r];
    }
    const reach = new Float64Array(M);
    for (let i = 0; i < M; i++) reach[i] = a[i] + b[regionOf[i]];
    const out = { a, b, pool, spend, reach, rho };
    cache.set(key, out);
    return out;
  }

  // --- the programme (selection.Problem) -------------------------------------------------------
  function problem(s, nums, owner = "page") {
    const rows = [], lo = [], hi = [];
    const all = Array.from({ length: M }, (_, i) => i);
    rows.push(all.map((i) => [i, 1])); lo.push(s.n); hi.push(s.n);
    function perGroup(of, count, low, high) {
      const members = Array.from({ length: count }, () => []);
      for (let i = 0; i < M; i++) members[of[i]].push([i, 1]);
      for (const g of members) if (g.length) { rows.push(g); lo.push(low); hi.push(high); }
    }
    if (s.max_per_provincie !== null) perGroup(G.provincie, P, 0, s.max_per_provincie);
    if (s.max_per_regio !== null) perGroup(G.regio, K, 0, s.max_per_regio);
    if (s.min_per_landsdeel) perGroup(G.landsdeel, L, s.min_per_landsdeel, M);
    if (s.min_klein) {
      rows.push(all.filter((i) => G.inwoners[i] < s.klein_onder).map((i) => [i, 1]));
      lo.push(s.min_klein); hi.push(M);
    }
    if (s.max_groot !== null) {
      rows.push(all.filter((i) => G.inwoners[i] > s.groot_boven).map((i) => [i, 1]));
      lo.push(0); hi.push(s.max_groot);
    }
    if (s.budget !== null) {
      rows.push(all.map((i) => [i, s.pilot_cost + nums.spend[i]]));
      lo.push(0); hi.push(s.budget);
    }
    const lb = new Float64Array(M), ub = new Float64Array(M).fill(1);
    for (const c of s.include) lb[INDEX.get(c)] = 1;
    for (const c of s.exclude) ub[INDEX.get(c)] = 0;
    if (s.min_pool) for (let i = 0; i < M; i++) if (!(nums.pool[i] >= s.min_pool)) ub[i] = 0;
    const fold = s.max_per_regio === 1;
    return { s, nums, rows, lo, hi, lb, ub, fold, owner };
  }
  function objectiveOf(idx, a, b) {
    let total = 0;
    const covered = new Set();
    for (const i of idx) { total += a[i]; covered.add(regionOf[i]); }
    for (const r of covered) total += b[r];
    return total;
  }
  class Infeasible extends Error {}

  // y[r] <= Σ x[m in r]: a region's rest is reached once (the rows of the y columns)
  const yRows = [], yLo = [], yHi = [];
  for (let r = 0; r < K; r++) {
    const row = [];
    for (let i = 0; i < M; i++) if (regionOf[i] === r) row.push([i, -1]);
    row.push([M + r, 1]);
    yRows.push(row); yLo.push(-M); yHi.push(0);
  }
  async function runModel(pr, cost, cols, integer, lb, ub, start = null) {
    // HiGHS on the columns `cols` (gemeenten, then the y of the regions when not folded)
    const host = VIB.solver.host;
    const where = new Map(cols.map((c, k) => [c, k]));
    const rows = [], lo = [], hi = [];
    const all = pr.rows.concat(pr.fold ? [] : yRows);
    const allLo = pr.lo.concat(pr.fold ? [] : yLo), allHi = pr.hi.concat(pr.fold ? [] : yHi);
    for (let r = 0; r < all.length; r++) {
      const row = all[r].filter(([j]) => where.has(j)).map(([j, v]) => [where.get(j), v]);
      rows.push(row); lo.push(allLo[r]); hi.push(allHi[r]);
    }
    const starts = [0], indices = [], values = [];
    for (const row of rows) {
      for (const [j, v] of row) { indices.push(j); values.push(v); }
      starts.push(indices.length);
    }
    const n = cols.length;
    const data = {
      numCols: n, numRows: rows.length,
      colCost: Float64Array.from(cols, (c) => cost[c]),
      colLower: Float64Array.from(cols, (c) => (c < M ? lb[c] : 0)),
      colUpper: Float64Array.from(cols, (c) => (c < M ? ub[c] : 1)),
      rowLower: Float64Array.from(lo), rowUpper: Float64Array.from(hi),
      matrix: { format: "csr", numRows: rows.length, numCols: n, starts: Int32Array.from(starts),
        indices: Int32Array.from(indices), values: Float64Array.from(values) },
    };
    if (integer) data.integrality = Int32Array.from(cols, (c) => (c < M ? 1 : 0));
    // the options of ranking/highs.py: exact, and a limit in work (nodes), never in seconds
    const options = { output_flag: false, dual_feasibility_tolerance: 1e-10 };
    if (integer) Object.assign(options, { mip_rel_gap: pr.s.budget !== null ? D.budget_gap : 0, mip_abs_gap: 1e-7, mip_max_nodes: D.node_limit });
    const owner = pr.owner || "page", epoch = host.epoch;
    if (host.ready) await host.ready;
    if (owner === "page" && epoch !== host.epoch) throw new VIB.solver.Cancelled("afgebroken");
    const reply = await host.run(data, options, owner, start);
    if (reply.status === "infeasible") throw new Infeasible("infeasible");
    if (reply.status === "node_limit") {
      throw new Error(`De selectie is niet binnen ${F.nlInt(D.node_limit)} stappen van de oplosser gevonden; maak een eis losser of kies minder pilots.`);
    }
    if (reply.status !== "optimal") throw new Error(`De oplosser stopte zonder optimum (${reply.message || reply.status}).`);
    return reply;
  }
  function pruned(pr, own, lb, ub) {
    // selection.Problem._pruned: within a class of the same provincie, region, landsdeel,
    // size and pool at most `keep` members can be chosen, so a candidate with `keep` eligible
    // class members at least as good is never needed ("at least as good": a higher value,
    // ties to the lower index; with a budget also a cost no higher)
    const caps = [pr.s.n, pr.s.max_per_provincie, pr.s.max_per_regio].filter((v) => v !== null);
    const keep = Math.min(...caps);
    const budget = pr.s.budget !== null;
    const price = (i) => pr.s.pilot_cost + pr.nums.spend[i];
    const byClass = new Map();
    for (let i = 0; i < M; i++) {
      if (!(ub[i] > 0)) continue;
      const size = (G.inwoners[i] < pr.s.klein_onder ? 1 : 0) - (G.inwoners[i] > pr.s.groot_boven ? 1 : 0);
      const pool = pr.s.min_pool ? (pr.nums.pool[i] >= pr.s.min_pool ? 1 : 0) : 1;
      const key = `${G.provincie[i]}|${regionOf[i]}|${G.landsdeel[i]}|${size}|${pool}`;
      if (!byClass.has(key)) byClass.set(key, []);
      byClass.get(key).push(i);
    }
    const out = [];
    for (const members of byClass.values()) {
      for (const i of members) {
        let better = 0;
        if (members.length > keep) {
          for (const j of members) {
            if (j === i) continue;
            const at = budget
              ? own[j] >= own[i] && price(j) <= price(i) && (own[j] > own[i] || price(j) < price(i) || j < i)
              : own[j] > own[i] || (own[j] === own[i] && j < i);
            if (at) better++;
          }
        }
        if (better < keep || lb[i] > 0) out.push(i);
      }
    }
    return out.sort((x, y) => x - y);
  }
  function costOf(pr, a, b) {  // the objective HiGHS maximises: with the tie-break
    const cost = new Float64Array(M + K);
    for (let i = 0; i < M; i++) cost[i] = a[i] + D.tie * G.j[i] + (pr.fold ? b[regionOf[i]] : 0);
    for (let r = 0; r < K; r++) cost[M + r] = b[r];
    return cost;
  }
  function neighbour(pr, cost, lb, ub, near) {
    // selection.Problem.neighbour: a local search from `near` in steps (one out, one in, or
    // one out and one in): while a constraint or bound is broken, the step that breaks them
    // least (each row by how far it is off, relative to its bound; each bound as 1), then the
    // best value; then the step that gains most, until none gains; at most
    // D.neighbour_steps steps. null if it ends with something broken. Columns: gemeenten,
    // then the regions' y (covered or not) when b is not folded.
    const R = pr.rows.length, W = M + 1;  // a last column: "nobody"
    const A = new Float64Array(R * W);
    pr.rows.forEach((row, r) => { for (const [j, v] of row) A[r * W + j] = v; });
    const own = (i) => (i < M ? cost[i] : 0);
    const rest = (r) => (r < K && !pr.fold ? cost[M + r] : 0);
    const region = (i) => (i < M ? regionOf[i] : K);
    const low = (i) => (i < M ? lb[i] : 0), high = (i) => (i < M ? ub[i] : 1);
    const inside = new Uint8Array(W);
    for (const i of near) inside[i] = 1;
    let broken = -1;
    for (let step = 0; step < D.neighbour_steps; step++) {
      const members = [], others = [];
      for (let i = 0; i < M; i++) (inside[i] ? members : others).push(i);
      members.push(M); others.push(M);
      const count = new Int32Array(K + 1);
      for (let i = 0; i < M; i++) if (inside[i]) count[regionOf[i]]++;
      count[K] = 0;
      const activity = new Float64Array(R);
      for (let r = 0; r < R; r++) {
        let t = 0;
        for (let i = 0; i < M; i++) if (inside[i]) t += A[r * W + i];
        activity[r] = t;
      }
      let stays = 0, missing = 0;
      for (let i = 0; i < M; i++) {
        if (inside[i] && ub[i] <= 0) stays++;
        if (!inside[i] && lb[i] > 0) missing++;
      }
      const badOf = (k, j) => {  // how far the rows are off, each relative to its bound
        let n = 0;
        for (let r = 0; r < R; r++) {
          const moved = activity[r] - A[r * W + k] + A[r * W + j];
          n += Math.max(pr.lo[r] - 1e-9 - moved, 0) / Math.max(Math.abs(pr.lo[r]), 1) +
            Math.max(moved - (pr.hi[r] + 1e-9), 0) / Math.max(Math.abs(pr.hi[r]), 1);
        }
        return n + (stays - (k < M && high(k) <= 0 ? 1 : 0)) + (missing - (j < M && low(j) > 0 ? 1 : 0));
      };
      broken = badOf(M, M);  // as it is
      let best = null, bestBad = Infinity, bestValue = -Infinity;
      for (const k of members) {
        if (!(low(k) <= 0)) continue;
        const rk = region(k);
        for (const j of others) {
          if (!(high(j) > 0)) continue;
          const rj = region(j);
          const lost = count[rk] === 1 && rj !== rk ? rest(rk) : 0;
          const won = count[rj] === 0 && rj !== rk ? rest(rj) : 0;
          const value = own(j) - own(k) - lost + won;
          const bad = badOf(k, j);
          if (broken > 0 ? !(bad < broken) : !(bad <= 0 && value > 1e-9)) continue;
          if (bad < bestBad || (bad === bestBad && value > bestValue)) { best = [k, j]; bestBad = bad; bestValue = value; }
        }
      }
      if (best === null) break;
      inside[best[0]] = 0; inside[best[1]] = best[1] < M ? 1 : 0; inside[M] = 0;
      broken = bestBad;
    }
    if (broken > 0) return null;
    const x = new Float64Array(pr.fold ? M : M + K);
    for (let i = 0; i < M; i++) x[i] = inside[i];
    if (!pr.fold) for (let i = 0; i < M; i++) if (x[i] > 0) x[M + regionOf[i]] = 1;
    return x;
  }
  async function solveWith(pr, a, b, forced = null, near = null) {
    // (chosen indices, objective) for values [a, b], as selection.Problem.solve: the LP
    // relaxation first, which is the integer optimum when its x is integral; otherwise branch
    // and bound over the candidates that can be in an optimum. `forced`: one more gemeente
    // in ({include: i}) or out ({exclude: i}). Throws Infeasible.
    const lb = Float64Array.from(pr.lb), ub = Float64Array.from(pr.ub);
    if (forced && forced.include !== undefined) lb[forced.include] = 1;
    if (forced && forced.exclude !== undefined) ub[forced.exclude] = 0;
    for (let i = 0; i < M; i++) if (lb[i] > ub[i]) throw new Infeasible("lb > ub");
    const cost = costOf(pr, a, b);
    const ys = pr.fold ? [] : Array.from({ length: K }, (_, r) => M + r);
    const everyone = Array.from({ length: M }, (_, i) => i).concat(ys);
    const { x } = await runModel(pr, cost, everyone, false, lb, ub);
    let chosen = [];
    let integral = true;
    for (let i = 0; i < M; i++) {
      if (Math.abs(x[i] - Math.round(x[i])) > 1e-7) integral = false;
      if (x[i] > 0.5) chosen.push(i);
    }
    if (!integral) {
      const idx = pruned(pr, cost, lb, ub);
      // with a budget, the best step from the explained selection is the first incumbent
      let start = null;
      if (near !== null && pr.s.budget !== null) {
        const x0 = neighbour(pr, cost, lb, ub, near);
        const kept = new Set(idx);
        let outside = false;
        if (x0) for (let i = 0; i < M; i++) if (x0[i] > 0 && !kept.has(i)) outside = true;
        if (x0 && !outside) start = Float64Array.from(idx.concat(ys), (c) => x0[c]);
      }
      const xi = (await runModel(pr, cost, idx.concat(ys), true, lb, ub, start)).x;
      chosen = idx.filter((_, k) => xi[k] > 0.5);
    }
    return { chosen, objective: objectiveOf(chosen, a, b) };
  }
  async function relax(pr, a, b) {
    // selection.Problem.relax: the LP optimum and, per gemeente at 0, its reduced cost (a
    // lower bound on the loss if forced in, up to the relaxation's gap)
    const cost = costOf(pr, a, b);
    const ys = pr.fold ? [] : Array.from({ length: K }, (_, r) => M + r);
    const everyone = Array.from({ length: M }, (_, i) => i).concat(ys);
    const reply = await runModel(pr, cost, everyone, false, pr.lb, pr.ub);
    if (!reply.dual) return null;
    let objective = 0;
    for (let c = 0; c < everyone.length; c++) objective += cost[everyone[c]] * reply.x[c];
    const bound = new Float64Array(M);
    for (let i = 0; i < M; i++) bound[i] = reply.x[i] > 0.5 ? 0 : Math.abs(reply.dual[i]);
    return { objective, bound };
  }
  async function trySolve(s, nums, owner = "page", forced = null, near = null) {
    try { return await solveWith(problem(s, nums, owner), nums.a, nums.b, forced, near); } catch (e) { if (e instanceof Infeasible) return null; throw e; }
  }

  // --- why no selection exists (selection.why_infeasible), as a fact -------------------------
  async function whyInfeasible(s, nums, owner = "page") {
    const eligible = Array.from({ length: M }, (_, i) => i).filter((i) => !s.exclude.includes(G.code[i]));
    const said = (kind, constraints, numbers = {}) => ({
      soort: kind, n: s.n, eisen: constraints.filter((k) => k !== "n").map((k) => fact(k, s)),
      beperkingen: constraints.map((k) => BY_NAME.get(k) ? BY_NAME.get(k).field : k), ...numbers });
    if (s.include.length > s.n) return said("vast", ["include", "n"], { vast: s.include.length });
    if (eligible.length < s.n) return said("over", ["exclude", "n"], { over: eligible.length });
    if (s.min_pool) {
      const big = (i) => nums.pool[i] >= s.min_pool;
      const small = s.include.filter((c) => !big(INDEX.get(c)));
      if (small.length) return said("pool_vast", ["min_pool", "include"], { codes: small, namen: small.map((c) => G.naam[INDEX.get(c)]) });
      const count = eligible.filter(big).length;
      if (count < s.n) return said("pool", ["min_pool", "n"], { aantal: count });
    }
    for (const [key, of, count, word] of [["max_per_provincie", G.provincie, P, "provincie"], ["max_per_regio", G.regio, K, "arbeidsmarktregio"]]) {
      if (s[key] === null) continue;
      const per = new Array(count).fill(0);
      for (const i of eligible) per[of[i]]++;
      const groups = per.filter((x) => x > 0);
      const most = groups.reduce((t, x) => t + Math.min(x, s[key]), 0);
      if (most < s.n) return said("kap", [key, "n"], { groepen: groups.length, groep: word, hoogstens: most });
    }
    const asks = {};
    const parts = new Set(eligible.map((i) => G.landsdeel[i])).size;
    if (s.min_per_landsdeel && s.min_per_landsdeel * parts > s.n) asks.min_per_landsdeel = s.min_per_landsdeel * parts;
    if (s.min_klein && s.min_klein > s.n) asks.min_klein = s.min_klein;
    if (Object.keys(asks).length) return said("vloer", ["n", ...Object.keys(asks)], { vraagt: asks, landsdelen: parts });
    const ones = { a: new Float64Array(M).fill(1), b: new Float64Array(K).fill(1) };
    const feasible = async (t) => { try { await solveWith(problem(t, nums, owner), ones.a, ones.b); return true; } catch (e) { if (e instanceof Infeasible) return false; throw e; } };
    const culprits = [];
    for (const k of active(s)) if (await feasible(without(s, k))) culprits.push(k);
    if (culprits.length) return said("zonder", culprits);
    const act = active(s).filter((k) => k !== "include" && k !== "exclude");
    for (let i = 0; i < act.length; i++) {
      for (const b2 of act.slice(i + 1)) {
        if (await feasible(without(without(s, act[i]), b2))) return said("paar", [act[i], b2]);
      }
    }
    return said("samen", active(s));
  }

  return { M, K, INDEX, CATALOGUE, BY_NAME, KEYS, LIMITS, regionOf, normalise, resolve, clean, check,
    number, describeSetting,
    fact, reasonOf, active, without, withoutLimits, numbers, regionSum, problem, objectiveOf,
    solveWith, neighbour, relax, trySolve, whyInfeasible, Infeasible };
})();
