// The page: controls generated from the catalogue, the map (look first: a click opens a
// gemeente's card, only its buttons change the scenario), the summary, kept scenarios
// compared with a baseline, prices, alternatives, the chance recount, and a link that is
// always what is shown. Every sentence comes from phrases.j2 through VIB.format.say; every
// name is set as text, never as markup.
VIB.page = (() => {
  const D = VIB.D, G = D.gemeenten, F = VIB.format, P = VIB.programme, X = VIB.explain;
  const host = VIB.solver.host, Cancelled = VIB.solver.Cancelled;
  const M = P.M, K = P.K, INDEX = P.INDEX, regionOf = P.regionOf;
  const $ = (id) => document.getElementById(id);
  const NUMBERS = P.CATALOGUE.filter((s) => s.kind !== "gemeenten");
  const OPTIONAL = NUMBERS.filter((s) => s.optional).map((s) => s.name);
  const MAX_LINK = 20000;  // characters of a link's fragment that the page reads at most
  const MAX_SCENARIOS = 12;
  const jNL = G.werkzoekend.reduce((t, x) => t + (Number.isFinite(x) ? x : 0), 0);

  let state = null;       // the settings shown
  let generation = 0;     // a newer change cancels the rest of an older answer
  let current = null;     // the answer shown
  let looking = null;     // the gemeente whose card is open (an index)
  const kansFor = new Map();  // settings key -> chances (the run's own, and recounts)
  let scenarios = [];     // kept: {naam, s, chosen (codes), objective, share}
  let baseline = 0;       // the scenario the current one is compared with

  // --- the standard error of a swap (the Monte Carlo error: a computing margin) ----------
  let covValues = null, covJ = null;
  const unpack = (b64, n) => ({ tri: new Float32Array(VIB.bytesOf(b64).buffer), n });
  function covAt(c, i, j) {
    if (i > j) [i, j] = [j, i];
    return c.tri[i * c.n - (i * (i - 1)) / 2 + (j - i)];
  }
  function quad(c, w) {
    const ent = [...w.entries()].filter(([, v]) => v !== 0);
    let total = 0;
    for (const [i, wi] of ent) for (const [j, wj] of ent) total += wi * wj * covAt(c, i, j);
    return Math.max(total, 0);
  }
  VIB.swapSE = function swapSE(base, alt, rho) {
    const wa = new Map(), wb = new Map();
    const add = (mp, k, v) => mp.set(k, (mp.get(k) || 0) + v);
    for (const i of base) add(wa, i, 1);
    for (const i of alt) add(wa, i, -1);
    for (const r of new Set(base.map((i) => regionOf[i]))) add(wb, r, 1);
    for (const r of new Set(alt.map((i) => regionOf[i]))) add(wb, r, -1);
    let v;
    if (rho === null) {
      covValues = covValues || unpack(D.cov_values, M + K);
      const w = new Map(wa);
      for (const [r, x] of wb) w.set(M + r, x);
      v = quad(covValues, w);
    } else {
      covJ = covJ || unpack(D.cov_j, M);
      const u = new Map();
      for (const [i, x] of wa) add(u, i, (1 - rho) * x);
      for (let i = 0; i < M; i++) { const x = wb.get(regionOf[i]); if (x) add(u, i, rho * x); }
      v = quad(covJ, u);
    }
    return Math.sqrt(v / D.draws);
  };

  // --- one answer for settings (the hooks and the page share it) --------------------------
  async function solveSettings(settings, owner = "page") {
    const s = P.clean(settings);
    P.check(s);
    const nums = P.numbers(s.region_reach);
    const base = await P.trySolve(s, nums, owner);
    if (base === null) {
      const fact = await P.whyInfeasible(s, nums, owner);
      return { s, nums, infeasible: { beperkingen: fact.beperkingen, tekst: F.say("onhaalbaar", fact), fact } };
    }
    return { s, nums, base };
  }
  function publicPrices(x) {  // by constraint field (explain.Explanation.prices)
    const out = {};
    for (const p of x.prices) {
      if (p.eis === "n") {
        out.n_meer = p.meer ? p.meer.prijs : null;
        out.n_minder = p.minder ? p.minder.prijs : null;
      } else out[P.BY_NAME.has(p.eis) ? P.BY_NAME.get(p.eis).field : p.eis] = p.prijs;
    }
    return out;
  }

  // --- controls: read and written from the catalogue ---------------------------------------
  function show(setting, v) {
    if (v === null || v === undefined) return "";
    if (setting === "region_reach") return F.nlNum(v);
    return Number.isInteger(v) ? F.nlInt(v) : F.nlNum(v);
  }
  function readControls() {
    const s = { include: state.include.slice(), exclude: state.exclude.slice() };
    for (const setting of NUMBERS) {
      const box = $(setting.name + "-aan");
      const raw = $(setting.name).value;
      s[setting.name] = box && !box.checked ? null : raw;
    }
    s.region_reach = $("rho-vast").checked ? $("region_reach").value : null;
    return s;
  }
  function writeControls(s) {
    for (const setting of NUMBERS) {
      const box = $(setting.name + "-aan");
      const fallback = D.standaard[setting.name] !== null ? D.standaard[setting.name] : setting.suggest;
      $(setting.name).value = show(setting.name, s[setting.name] !== null ? s[setting.name] : fallback);
      if (box) { box.checked = s[setting.name] !== null; $(setting.name).disabled = !box.checked; }
    }
    const fixed = s.region_reach !== null || !D.rho.onzeker;
    $("rho-vast").checked = fixed;
    $("rho-onzeker").checked = !fixed;
    $("rho-onzeker").disabled = !D.rho.onzeker;
    const r = s.region_reach !== null ? s.region_reach : D.rho.waarde;
    $("region_reach").value = show("region_reach", r);
    $("region_reach-schuif").value = r;
    $("region_reach").disabled = $("region_reach-schuif").disabled = !fixed;
    chips("vastgezet", s.include);
    chips("uitgesloten", s.exclude);
  }
  function chips(id, codes) {
    const ul = $(id);
    ul.replaceChildren();
    for (const c of codes) {
      const li = document.createElement("li");
      li.dataset.code = c;
      li.append(G.naam[INDEX.get(c)]);
      const x = document.createElement("button");
      x.type = "button"; x.textContent = "×"; x.title = "Vrijlaten";
      x.setAttribute("aria-label", `${G.naam[INDEX.get(c)]} vrijlaten`);
      x.addEventListener("click", () => { setForce(c, null); });
      li.append(x);
      ul.append(li);
    }
    if (!codes.length) { const li = document.createElement("li"); li.textContent = "geen"; li.className = "leeg"; ul.append(li); }
  }
  function setForce(code, how) {  // only the card's buttons and the chips change forcing
    let s;
    try { s = P.clean(readControls()); } catch (e) { s = JSON.parse(JSON.stringify(state)); }
    s.include = s.include.filter((c) => c !== code);
    s.exclude = s.exclude.filter((c) => c !== code);
    if (how) s[how].push(code);
    state = s;
    writeControls(state);
    update();
  }

  // --- messages and status --------------------------------------------------------------------
  function status(text) { $("status").textContent = text; }
  function notice(text, names) {  // why there is no selection, or why the settings are wrong
    const box = $("onhaalbaar");
    box.hidden = !text;
    box.textContent = text || "";
    box.dataset.beperkingen = (names || []).join(",");
  }
  function message(text) { $("melding").hidden = !text; $("melding").textContent = text || ""; }
  function answered(kind) {  // an answer is shown: count it, and say what it is
    const res = $("resultaat");
    res.dataset.solve = String(Number(res.dataset.solve) + 1);
    res.dataset.state = kind;
  }
  function cell(tr, text, cls, head) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    if (head) td.dataset.kop = head;
    tr.append(td);
    return td;
  }

  // --- the map: numbered pilots, look before you change -----------------------------------
  const NS = "http://www.w3.org/2000/svg";
  const pathEls = [];
  function drawMap() {
    const K0 = D.kaartbeeld;
    const svg = $("kaart");
    svg.setAttribute("viewBox", `0 0 ${K0.width} ${K0.height}`);
    const areas = document.createElementNS(NS, "g");
    areas.id = "vlakken";
    // a gemeente's area or hit circle: its code, its name on hover, a click opens its card
    const lookable = (el, i) => {
      el.dataset.code = G.code[i];
      const title = document.createElementNS(NS, "title");
      title.textContent = G.naam[i];
      el.append(title);
      el.addEventListener("click", () => look(i));
      return el;
    };
    for (let i = 0; i < M; i++) {
      const p = document.createElementNS(NS, "path");
      pathEls.push(p);
      p.setAttribute("d", K0.paths[i]);
      const cls = K0.klasse[i];
      p.setAttribute("fill", cls >= 0 ? K0.kleuren[cls] : "#bdbdbd");
      areas.append(lookable(p, i));
    }
    svg.append(areas);
    // small gemeenten get a larger, invisible hit area (a tap on a phone must land)
    const hits = document.createElementNS(NS, "g");
    hits.id = "raakvlakken";
    const order = [...Array(M).keys()].filter((i) => K0.klein[i]).sort((x, y) => K0.grootte[y] - K0.grootte[x]);
    for (const i of order) {
      const c = document.createElementNS(NS, "circle");
      c.setAttribute("class", "raak");
      c.setAttribute("cx", K0.labels[i][0]); c.setAttribute("cy", K0.labels[i][1]); c.setAttribute("r", K0.raak);
      hits.append(lookable(c, i));
    }
    svg.append(hits);
    const marks = document.createElementNS(NS, "g");
    marks.id = "nummers";
    svg.append(marks);
    const leg = $("legenda");
    const head = document.createElement("li");
    head.textContent = `${K0.titel}:`;
    leg.append(head);
    for (const l of K0.legenda) {
      if (l.aantal === 0 && l.tekst === "geen gegevens") continue;
      const li = document.createElement("li");
      const box = document.createElement("span");
      box.className = "vak"; box.style.background = l.kleur;
      li.append(box, `${l.tekst} (${l.aantal})`);
      leg.append(li);
    }
    for (const [cls, text] of [["", "gekozen (genummerd, zie de lijst)"], ["vast", "vastgezet"], ["uit", "uitgesloten"], ["bekeken", "de gemeente die u bekijkt"]]) {
      const li = document.createElement("li");
      const line = document.createElement("span");
      line.className = `lijn ${cls}`;
      li.append(line, text);
      leg.append(li);
    }
  }
  function paintMap(order) {
    const chosen = new Set(order || []);
    for (let i = 0; i < M; i++) {
      const p = pathEls[i];
      p.classList.toggle("gekozen", chosen.has(i));
      p.classList.toggle("vast", state.include.includes(G.code[i]));
      p.classList.toggle("uit", state.exclude.includes(G.code[i]));
      p.classList.toggle("bekeken", i === looking);
    }
    for (const i of chosen) $("vlakken").append(pathEls[i]);  // outlines on top
    if (looking !== null) $("vlakken").append(pathEls[looking]);
    // numbered markers that never overlap: each at its area, or moved out on a leader line
    const marks = $("nummers");
    marks.replaceChildren();
    const R = D.kaartbeeld.nummer, placed = [];
    (order || []).forEach((i, k) => {
      const [x0, y0] = D.kaartbeeld.labels[i];
      let x = x0, y = y0;
      const free = (x1, y1) => placed.every(([px, py]) => Math.hypot(px - x1, py - y1) >= 2.15 * R);
      search: for (let ring = 0; ring < 40 && !free(x, y); ring++) {
        for (let a = 0; a < 12; a++) {
          const t = (a / 12) * 2 * Math.PI + ring * 0.4;
          const x1 = x0 + Math.cos(t) * (ring + 1) * 1.2 * R, y1 = y0 + Math.sin(t) * (ring + 1) * 1.2 * R;
          if (free(x1, y1)) { x = x1; y = y1; break search; }
        }
      }
      placed.push([x, y]);
      const g = document.createElementNS(NS, "g");
      g.setAttribute("class", "nummer");
      g.dataset.code = G.code[i];
      if (x !== x0 || y !== y0) {
        const line = document.createElementNS(NS, "line");
        line.setAttribute("x1", x0); line.setAttribute("y1", y0); line.setAttribute("x2", x); line.setAttribute("y2", y);
        g.append(line);
      }
      const c = document.createElementNS(NS, "circle");
      c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", R);
      const t = document.createElementNS(NS, "text");
      t.setAttribute("x", x); t.setAttribute("y", y);
      t.textContent = String(k + 1);
      const title = document.createElementNS(NS, "title");
      title.textContent = `${k + 1}. ${G.naam[i]}`;
      g.append(c, t, title);
      g.addEventListener("click", () => look(i));
      marks.append(g);
    });
    const list = $("kaartlijst");
    list.replaceChildren();
    for (const i of order || []) {
      const li = document.createElement("li");
      li.textContent = G.naam[i];
      list.append(li);
    }
  }

  // --- the gemeente's card: look, then change with its buttons ----------------------------
  function look(i) {
    looking = i;
    showCard();
    if (current && current.order) paintMap(current.order); else paintMap([]);
  }
  function showCard() {
    const box = $("kaartje");
    box.replaceChildren();
    if (looking === null) { box.hidden = true; return; }
    const i = looking, code = G.code[i];
    box.hidden = false;
    box.dataset.code = code;
    const h = document.createElement("h3");
    h.textContent = G.naam[i];
    const where = document.createElement("p");
    where.className = "uitleg";
    where.textContent = `${D.provincies[G.provincie[i]].naam} · arbeidsmarktregio ${D.regios[regionOf[i]].naam} · ${F.nlInt(G.inwoners[i])} inwoners`;
    const dl = document.createElement("dl");
    const row = (k, v) => { const dt = document.createElement("dt"); dt.textContent = k; const dd = document.createElement("dd"); dd.textContent = v; dl.append(dt, dd); };
    row("Werkzoekend", F.nlAbout(G.werkzoekend[i]));
    if (current && current.nums) row("Bereik als pilot", F.nlAbout(current.nums.reach[i]));
    const forced = state.include.includes(code) ? "vastgezet" : state.exclude.includes(code) ? "uitgesloten" : "";
    const chosen = current && current.base ? current.base.chosen.includes(i) : null;
    row("Nu", chosen === null ? "nog geen selectie" : (chosen ? "gekozen" : "niet gekozen") + (forced ? ` (${forced})` : ""));
    const why = document.createElement("p");
    why.className = "reden";
    why.id = "kaartje-reden";
    why.textContent = current && current.reasons ? current.reasons[i] : current && current.base ? "De reden wordt berekend…" : "";
    const buttons = document.createElement("div");
    buttons.className = "knoppen";
    const button = (text, how, main) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = text; b.dataset.doe = how || "vrij";
      if (main) b.className = "hoofd";
      b.addEventListener("click", () => setForce(code, how));
      buttons.append(b);
    };
    if (!state.include.includes(code)) button("Zet vast", "include", !chosen);
    if (!state.exclude.includes(code)) button("Sluit uit", "exclude", false);
    if (forced) button("Vrijlaten", null, true);
    const close = document.createElement("button");
    close.type = "button"; close.textContent = "Sluiten"; close.dataset.doe = "sluit";
    close.addEventListener("click", () => { looking = null; showCard(); paintMap(current && current.order ? current.order : []); });
    buttons.append(close);
    box.append(h, where, dl, why, buttons);
  }

  // --- summary, tables, scenarios -----------------------------------------------------------
  function reachRange(chosen, rho) {  // p10–p90 of the selection's reach over the share draws
    const draws = X.sharesOf(rho);
    const values = draws.map(({ a, b }) => P.objectiveOf(chosen, a, b)).sort((x, y) => x - y);
    const at = (q) => { const h = (values.length - 1) * q, lo = Math.floor(h); return values[lo] + (values[Math.min(lo + 1, values.length - 1)] - values[lo]) * (h - lo); };
    return [at(0.1), at(0.9)];
  }
  function summary(s, base, nums, order) {
    const own = base.chosen.reduce((t, i) => t + G.werkzoekend[i], 0);
    const [lo, hi] = reachRange(base.chosen, nums.rho);
    const p = $("kern");
    p.replaceChildren();
    const b = document.createElement("b");
    b.id = "doel";
    b.dataset.waarde = String(base.objective);
    b.textContent = F.nlAbout(base.objective);
    const n = base.chosen.length;
    p.append(n === 1 ? "De gekozen gemeente bereikt naar schatting " : `De ${n} gekozen gemeenten bereiken naar schatting `, b,
      ` werkzoekenden (waarschijnlijk ${F.nlAboutRange(lo, hi)}), ${F.nlShare(base.objective / jNL)} van de ${F.nlAbout(jNL)} in Nederland; ` +
      `zelf ${n === 1 ? "heeft ze" : "hebben ze"} er ${F.nlAbout(own)}.`);
    p.dataset.aandeel = String(own / jNL);
    const names = $("gekozen-namen");
    names.replaceChildren();
    order.forEach((i, k) => {
      const li = document.createElement("li");
      li.dataset.code = G.code[i];
      const btn = document.createElement("button");
      btn.type = "button";
      const nr = document.createElement("span"); nr.className = "nr"; nr.textContent = String(k + 1);
      btn.append(nr, G.naam[i]);
      btn.addEventListener("click", () => look(i));
      li.append(btn);
      names.append(li);
    });
    const spend = base.chosen.reduce((t, i) => t + nums.spend[i], 0);
    const fixed = s.pilot_cost * n;
    $("kosten-zin").textContent = `Kosten van deze selectie: de verwachte plaatsingen binnen hun bereik over ${F.nlInt(D.periode_jaren)} jaar ` +
      `${F.nlAboutEur(spend)} (${F.nlAboutEur(D.kosten_per_plaatsing)} per plaatsing, prijzen van 2006–2008)` +
      (fixed ? ` plus ${F.nlAboutEur(fixed)} vaste kosten (${F.nlAboutEur(s.pilot_cost)} per pilot): ${F.nlAboutEur(spend + fixed)}` : "") +
      (s.budget !== null ? `; budget ${F.nlAboutEur(s.budget)}.` : ".");
  }
  function selectionTable(s, nums, x, rs, kans, order) {
    const body = $("selectie").tBodies[0];
    body.replaceChildren();
    order.forEach((i, k) => {
      const tr = document.createElement("tr");
      tr.className = "kijkbaar";
      tr.dataset.code = G.code[i];
      const sw = x ? x.swaps.get(i) : null;
      cell(tr, String(k + 1), "n");
      cell(tr, G.naam[i]);
      cell(tr, D.provincies[G.provincie[i]].naam, "", "");
      cell(tr, F.nlAbout(G.werkzoekend[i]), "n", "werkzoekend");
      cell(tr, F.nlAbout(nums.reach[i]), "n", "bereik");
      cell(tr, s.include.includes(G.code[i]) ? "vastgezet" : sw && sw.loss !== null ? (F.isSmall(sw.loss) ? "vrijwel evenveel" : `${F.nlAbout(sw.loss)} minder`) : x ? "–" : "…", "n", "zonder haar");
      cell(tr, kans ? F.nlProb(kans[i]) : "", "n", kans ? "kans" : "");
      cell(tr, rs ? rs[i] : "", "reden");
      tr.addEventListener("click", () => look(i));
      body.append(tr);
    });
  }
  function busyTables() {
    for (const id of ["prijzen", "kandidaten"]) {
      const tr = document.createElement("tr");
      const td = cell(tr, "wordt berekend…");
      td.colSpan = 5;
      $(id).tBodies[0].replaceChildren(tr);
    }
  }
  function priceTable(s, x, pfacts, steps) {
    const body = $("prijzen").tBodies[0];
    body.replaceChildren();
    pfacts.forEach((p, k) => {
      const tr = document.createElement("tr");
      const key = p.eis.eis;
      tr.dataset.eis = key;
      const raw = x.prices[k];
      if (key === "n") {
        tr.dataset.prijs = String(raw.meer ? raw.meer.prijs : "");
        cell(tr, `${s.n} pilots`);
        cell(tr, "–", "n");
        cell(tr, raw.meer ? `+${F.nlAbout(raw.meer.prijs)} (${F.nlShare(raw.meer.aandeel)})` : "kan niet", "n", "één meer");
        cell(tr, raw.minder ? `−${F.nlAbout(raw.minder.prijs)} (${F.nlShare(raw.minder.aandeel)})` : "kan niet", "n", "één minder");
      } else {
        tr.dataset.prijs = String(raw.prijs);
        cell(tr, key === "samen" ? "alle eisen samen" : F.say("eis", p.eis));
        cell(tr, raw.bindend ? `+${F.nlAbout(raw.prijs)} (${F.nlShare(raw.aandeel)})` : "niets", "n", "zonder");
        const st = steps && steps.get(key);
        const said = (v) => (v === undefined ? "" : v === null ? "kan niet" : F.isSmall(v.change) ? "vrijwel gelijk" : `${v.change > 0 ? "+" : "−"}${F.nlAbout(Math.abs(v.change))} (${v.label})`);
        cell(tr, st ? said(st.looser) : steps ? "–" : "…", "n", "losser");
        cell(tr, st ? said(st.tighter) : steps ? "–" : "…", "n", "strakker");
      }
      cell(tr, F.say("prijs", p), "reden");
      body.append(tr);
    });
  }
  let allAlternatives = false;
  function alternativesTable(x, rs, nums) {
    const body = $("kandidaten").tBodies[0];
    body.replaceChildren();
    const shown = allAlternatives ? x.alternatives : x.alternatives.slice(0, D.near);
    const more = $("alle-kandidaten");
    more.hidden = shown.length === x.alternatives.length;
    more.textContent = `Toon alle ${x.alternatives.length} (ook elk die minder dan ${F.nlPct(D.near_loss)} van het bereik kost)`;
    for (const i of shown) {
      const sw = x.swaps.get(i);
      const tr = document.createElement("tr");
      tr.className = "kijkbaar";
      tr.dataset.code = G.code[i];
      cell(tr, G.naam[i]);
      cell(tr, F.nlAbout(nums.reach[i]), "n", "bereik");
      cell(tr, F.isSmall(sw.loss) ? "vrijwel niets" : `${F.nlAbout(sw.loss)} (${F.nlShare(sw.loss / x.objective)})`, "n", "kost");
      cell(tr, F.nlList(sw.went.slice().sort((p, q) => (G.code[p] < G.code[q] ? -1 : 1)).map((j) => G.naam[j])), "", "eruit:");
      cell(tr, rs[i], "reden");
      tr.addEventListener("click", () => look(i));
      body.append(tr);
    }
  }
  function orderOf(s, base, x, nums) {  // rank._order: hardest to replace first
    const sw = x ? x.swaps : new Map();
    return base.chosen.slice().sort((p, q) => {
      const kp = sw.get(p) && sw.get(p).loss !== null && sw.get(p).loss !== undefined ? sw.get(p).loss : -Infinity;
      const kq = sw.get(q) && sw.get(q).loss !== null && sw.get(q).loss !== undefined ? sw.get(q).loss : -Infinity;
      return kq - kp || nums.reach[q] - nums.reach[p];
    });
  }

  // the price against the card's setting: one step looser and one tighter than it
  async function stepPrices(s, nums, base, mine) {
    const out = new Map();
    for (const key of P.active(s)) {
      const setting = P.BY_NAME.get(key);
      if (!setting || !setting.integer || !["cap", "floor"].includes(setting.kind)) continue;
      const card = D.standaard[key] !== null ? D.standaard[key] : s[key];
      const dir = setting.kind === "cap" ? 1 : -1;
      const at = async (v) => {
        if (v < setting.minimum || v > setting.maximum) return null;
        const again = await P.trySolve({ ...s, [key]: v }, nums, "page", null, base.chosen);
        if (mine !== generation) throw new Cancelled("afgebroken");
        return again === null ? null : { change: again.objective - base.objective, label: F.say("eis", P.fact(key, { ...s, [key]: v })) };
      };
      out.set(setting.field, { looser: await at(card + dir), tighter: await at(card - dir) });
    }
    return out;
  }

  function settingsKey(s) { return JSON.stringify(P.KEYS.map((k) => s[k])); }
  function scenarioOf(naam, s, base) {
    const own = base.chosen.reduce((t, i) => t + G.werkzoekend[i], 0);
    return { naam: String(naam).slice(0, 60), s: JSON.parse(JSON.stringify(s)), chosen: base.chosen.map((i) => G.code[i]).sort(),
      objective: base.objective, share: base.objective / jNL, own: own / jNL };
  }
  function showScenarios() {
    const ol = $("scenarios");
    ol.replaceChildren();
    scenarios.forEach((sc, k) => {
      const li = document.createElement("li");
      li.dataset.index = String(k);
      const radio = document.createElement("input");
      radio.type = "radio"; radio.name = "basis"; radio.id = `basis-${k}`; radio.checked = k === baseline;
      radio.addEventListener("change", () => { baseline = k; compare(); syncLink(); });
      const label = document.createElement("label");
      label.htmlFor = radio.id;
      label.textContent = `${sc.naam}: ${F.nlAbout(sc.objective)} bereikt (${F.nlShare(sc.share)}) — vergelijk hiermee`;
      const open = document.createElement("button");
      open.type = "button"; open.textContent = "Toon"; open.className = "niet-print";
      open.addEventListener("click", () => { state = P.clean(sc.s); writeControls(state); update(); });
      li.append(radio, " ", label, " ", open);
      if (k > 0) {
        const del = document.createElement("button");
        del.type = "button"; del.textContent = "Verwijder"; del.className = "niet-print";
        del.addEventListener("click", () => { scenarios.splice(k, 1); if (baseline >= scenarios.length || baseline === k) baseline = 0; showScenarios(); compare(); syncLink(); });
        li.append(" ", del);
      }
      ol.append(li);
    });
  }
  function compare() {  // the scenario shown against the chosen baseline
    const box = $("vergelijking");
    box.replaceChildren();
    const sc = scenarios[baseline];
    if (!sc || !current || !current.base) { box.textContent = current && current.infeasible ? "Geen selectie om te vergelijken." : ""; return; }
    const now = current.base.chosen.map((i) => G.code[i]);
    const came = now.filter((c) => !sc.chosen.includes(c)).sort().map((c) => G.naam[INDEX.get(c)]);
    const went = sc.chosen.filter((c) => !now.includes(c)).sort().map((c) => G.naam[INDEX.get(c)]);
    const change = current.base.objective - sc.objective;
    const p = document.createElement("p");
    p.id = "verschil";
    p.dataset.verschil = String(change);
    p.dataset.erin = came.join("|");
    p.dataset.eruit = went.join("|");
    const sign = change > 0 ? "+" : change < 0 ? "−" : "";
    p.textContent = `Tegenover "${sc.naam}": bereik ${F.nlAbout(sc.objective)} → ${F.nlAbout(current.base.objective)} ` +
      `(${F.isSmall(change) ? "vrijwel gelijk" : sign + F.nlAbout(Math.abs(change))}), ${F.nlShare(sc.share)} → ${F.nlShare(current.base.objective / jNL)} van Nederland. ` +
      (came.length ? `Erbij: ${F.nlList(came)}. ` : "") + (went.length ? `Eruit: ${F.nlList(went)}.` : (came.length ? "" : "Dezelfde gemeenten."));
    box.append(p);
  }

  // --- the link is always what is shown ---------------------------------------------------
  function differences(s) {
    const out = [];
    for (const k of P.KEYS) {
      if (k === "include" || k === "exclude") {
        if (JSON.stringify(s[k]) !== JSON.stringify(D.standaard[k])) out.push([k, s[k]]);
      } else if (s[k] !== D.standaard[k]) out.push([k, s[k]]);
    }
    return out;
  }
  function query(s) {
    const q = new URLSearchParams();
    for (const [k, v] of differences(s)) q.set(k, Array.isArray(v) ? v.join(",") : v === null ? "none" : String(v));
    return q;
  }
  function toHash(s) {
    const q = new URLSearchParams();
    q.set("v", "1");
    for (const [k, v] of query(s)) q.set(k, v);
    for (const sc of scenarios.slice(1)) q.append("sc", `${sc.naam}~${query(sc.s).toString()}`);
    if (baseline) q.set("vs", String(baseline));
    if (looking !== null) q.set("kijk", G.code[looking]);
    return "#" + q.toString();
  }
  function parseQuery(q) {
    const given = {};
    for (const [k, v] of q.entries()) {
      given[k] = k === "include" || k === "exclude" ? v.split(",").filter(Boolean) : v === "none" ? null : v;
    }
    return given;
  }
  function fromHash(hash) {  // {s, scenarios, baseline, kijk} or null; throws with a Dutch reason
    const text = hash.replace(/^#/, "");
    if (!text) return null;
    if (text.length > MAX_LINK) throw new Error(`Deze link is te lang (${F.nlInt(text.length)} tekens; een link van deze pagina heeft er hoogstens ${F.nlInt(MAX_LINK)}).`);
    const q = new URLSearchParams(text);
    if (!q.has("v")) return null;
    if (q.get("v") !== "1") throw new Error(`Deze link is van een andere versie van de pagina (v=${q.get("v").slice(0, 10)}); deze pagina leest versie 1.`);
    const known = new Set([...P.KEYS, "v", "sc", "vs", "kijk"]);
    const unknown = [...new Set([...q.keys()].filter((k) => !known.has(k)))];
    if (unknown.length) throw new Error(`Deze link bevat onbekende instellingen: ${unknown.slice(0, 5).map((k) => k.slice(0, 30)).join(", ")}.`);
    const main = new URLSearchParams();
    for (const [k, v] of q.entries()) if (P.KEYS.includes(k)) main.append(k, v);
    const s = P.clean(parseQuery(main));
    P.check(s);
    const kept = q.getAll("sc").slice(0, MAX_SCENARIOS).map((item) => {
      const cut = item.indexOf("~");
      const naam = cut < 0 ? item : item.slice(0, cut);
      const sc = P.clean(parseQuery(new URLSearchParams(cut < 0 ? "" : item.slice(cut + 1))));
      P.check(sc);
      return { naam: naam.slice(0, 60), s: sc };
    });
    const vs = q.has("vs") ? Number(q.get("vs")) : 0;
    if (!(Number.isInteger(vs) && vs >= 0 && vs <= kept.length)) throw new Error(`Deze link vergelijkt met scenario ${String(q.get("vs")).slice(0, 10)}, dat ze niet heeft.`);
    const kijk = q.has("kijk") ? P.resolve(q.get("kijk")) : null;
    return { s, scenarios: kept, baseline: vs, kijk };
  }
  function syncLink() {
    if (!state) return;
    const h = toHash(state);
    if (location.hash !== h) history.replaceState(null, "", h);
    $("deel-link").textContent = location.href;
    $("opdracht").textContent = command(state);
    $("opdracht-uitleg").textContent = D.opdracht.some(([k]) => k === "snapshot")
      ? `MAP: de map van snapshot ${D.snapshot}.` : "";
    settingsInWords(state);
  }
  function settingsInWords(s) {  // for print: the settings said, not as a command line
    const box = $("instellingen-tekst");
    box.replaceChildren();
    const h = document.createElement("h3");
    h.textContent = "Instellingen";
    const ul = document.createElement("ul");
    const add = (text) => { const li = document.createElement("li"); li.textContent = text; ul.append(li); };
    add(`${s.n} voortrekkersgemeenten`);
    for (const k of P.active(s)) add(F.say("eis", P.fact(k, s)));
    add(s.region_reach === null ? `Bereik in de regio onzeker zoals de methodekaart (${F.nlPct(D.rho.laag)} tot ${F.nlPct(D.rho.hoog)})` : `Bereik in de regio vast op ${F.nlPct(s.region_reach)}`);
    box.append(h, ul);
  }
  const flagOf = (k) => "--" + k.replace(/_/g, "-");
  const quoted = (text) => (/^[\w.-]+$/.test(text) ? text : `"${text.replace(/"/g, '\\"')}"`);
  function command(s) {
    const parts = ["vib rank", ...D.opdracht.map(([k, v]) => `${flagOf(k)} ${k === "snapshot" ? "MAP" : v}`)];
    for (const [k, v] of differences(s)) {
      if (k === "include" || k === "exclude") for (const c of v) parts.push(`${flagOf(k)} ${quoted(G.naam[INDEX.get(c)])}`);
      else parts.push(`${flagOf(k)} ${v === null ? "none" : v}`);
    }
    return parts.join(" ");
  }

  // --- answering a change --------------------------------------------------------------------
  async function update() {
    try {
      await answer();
    } catch (e) {  // a bug must not leave the page looking busy or complete
      $("resultaat").dataset.state = "fout";
      status(`Fout in de pagina: ${e.message}`);
      throw e;
    }
  }
  function clearResults() {
    current = null;
    $("kans-uitleg").textContent = "";
    $("kern").textContent = "Geen selectie.";
    $("gekozen-namen").replaceChildren();
    $("kosten-zin").textContent = "";
    for (const id of ["selectie", "prijzen", "kandidaten"]) $(id).tBodies[0].replaceChildren();
    paintMap([]);
    compare();
  }
  async function answer() {
    const mine = ++generation;
    host.cancel();  // what an earlier change still solves is of no use now
    let s;
    try {
      s = P.clean(readControls());
      P.check(s);
    } catch (e) {  // nothing of an earlier answer stays on screen under the error
      clearResults();
      notice(`De instellingen kloppen niet: ${e.message}`);
      answered("fout");
      status("Verbeter de instelling; er is nu geen selectie.");
      showCard();
      return;
    }
    state = s;
    syncLink();
    $("resultaat").dataset.state = "bezig";
    status("De beste selectie wordt berekend…");
    await new Promise((r) => setTimeout(r, 0));
    if (mine !== generation) return;
    let got;
    try {
      got = await solveSettings(s);
    } catch (e) {
      if (e instanceof Cancelled || mine !== generation) return;
      clearResults();
      notice(e.message);
      answered("fout");
      status("Geen antwoord voor deze instellingen.");
      return;
    }
    if (mine !== generation) return;
    const nums = got.nums;
    if (got.infeasible) {
      clearResults();
      current = { s, infeasible: got.infeasible };
      notice(got.infeasible.tekst, got.infeasible.beperkingen);
      answered("onhaalbaar");
      status("Geen selectie mogelijk met deze eisen; verander er een.");
      showCard();
      compare();
      return;
    }
    notice("");
    if (!$("kans-status").textContent.startsWith("afgebroken")) $("kans-status").textContent = "";
    const base = got.base;
    const order0 = orderOf(s, base, null, nums);
    current = { s, base, nums, order: order0 };
    summary(s, base, nums, order0);
    paintMap(order0);
    selectionTable(s, nums, null, null, null, order0);
    busyTables();
    $("resultaat").dataset.state = "selectie";
    showCard();
    compare();
    let done = 0;
    const total = P.active(s).length + 3 + base.chosen.length + D.near + 10;
    const progress = async () => {  // after each re-solve: progress, or stop for a newer change
      if (mine !== generation) throw new Cancelled("afgebroken");
      done++;
      status(`De selectie staat. Prijzen en alternatieven worden berekend (${Math.min(done, total)} van ongeveer ${total})…`);
    };
    let x, steps;
    try {
      x = await X.explain(s, nums, base, progress);
      steps = await stepPrices(s, nums, base, mine);
    } catch (e) {
      if (e instanceof Cancelled || mine !== generation) return;
      for (const id of ["prijzen", "kandidaten"]) $(id).tBodies[0].replaceChildren();
      notice(`De selectie staat, maar een herberekening voor de prijzen of alternatieven niet: ${e.message}`);
      answered("fout");
      status("De prijzen en alternatieven konden niet worden berekend.");
      return;
    }
    const kans = kansFor.get(settingsKey(s)) || null;
    const facts = X.reasonFacts(s, nums, x, kans);
    const rs = facts.map((f) => F.say("reden", f));
    const order = orderOf(s, base, x, nums);
    current = { s, base, nums, x, reasons: rs, facts, order, steps, pfacts: X.priceFacts(s, x) };
    summary(s, base, nums, order);
    paintMap(order);
    selectionTable(s, nums, x, rs, kans, order);
    priceTable(s, x, current.pfacts, steps);
    alternativesTable(x, rs, nums);
    showCard();
    compare();
    $("kans-uitleg").textContent = kans
      ? `Kans gekozen over ${kansCount(s)} opnieuw doorgerekende varianten van de aannames, voor deze instellingen.`
      : `In hoeveel van ${kansCount(s)} doorrekeningen (de aannames telkens anders binnen hun bereik) een gemeente gekozen wordt. Voor deze instellingen nog niet berekend.`;
    answered("klaar");
    status("Klaar.");
  }

  function kansCount(s) { return s.budget !== null ? Math.min(D.kans_draws.n, D.min_resolve) : D.kans_draws.n; }
  async function computeKans() {
    if (!current || !current.base) {
      $("kans-status").textContent = "Er is nu geen selectie om de kans voor te berekenen.";
      return;
    }
    if (current.s.budget !== null) {
      $("kans-status").textContent = "Met een budget wordt de kans niet berekend: veel combinaties liggen dan binnen 1% van elkaar, en welke de oplosser kiest zegt weinig.";
      return;
    }
    const s = current.s, mine = generation;
    const n = kansCount(s);
    const draws = X.sharesOf(s.region_reach).slice(0, n);
    const bar = $("kans-voortgang");
    bar.hidden = false; bar.max = n; bar.value = 0;
    $("kans-knop").disabled = true;
    const counts = new Float64Array(M);
    const pr = P.problem(s, current.nums);
    try {
      for (let d = 0; d < n; d++) {
        for (const i of (await P.solveWith(pr, draws[d].a, draws[d].b)).chosen) counts[i]++;
        if (mine !== generation) { $("kans-status").textContent = "afgebroken: de instellingen zijn veranderd"; return; }
        if (d % 10 === 9 || s.budget !== null) {
          bar.value = d + 1;
          $("kans-status").textContent = `${d + 1} van ${n}`;
        }
      }
    } catch (e) {
      $("kans-status").textContent = e instanceof Cancelled ? "afgebroken: de instellingen zijn veranderd" : e.message;
      return;
    } finally {
      $("kans-knop").disabled = false;
      bar.hidden = true;
    }
    const chances = Array.from(counts, (c) => c / n);
    kansFor.set(settingsKey(s), chances);
    if (current && current.x && settingsKey(current.s) === settingsKey(s)) {
      current.facts = X.reasonFacts(s, current.nums, current.x, chances);
      current.reasons = current.facts.map((f) => F.say("reden", f));
      selectionTable(s, current.nums, current.x, current.reasons, chances, current.order);
      alternativesTable(current.x, current.reasons, current.nums);
      showCard();
      $("kans-uitleg").textContent = `Kans gekozen over ${n} opnieuw doorgerekende varianten van de aannames, voor deze instellingen.`;
      answered("klaar");
    } else {
      await update();
    }
    $("kans-status").textContent = `klaar: ${n} doorrekeningen`;
  }

  // --- wiring -----------------------------------------------------------------------------------
  function wire() {
    const form = $("instellingen");
    form.addEventListener("submit", (e) => e.preventDefault());
    let timer = null;
    const later = () => { clearTimeout(timer); timer = setTimeout(update, 250); };
    form.addEventListener("input", (e) => {
      const t = e.target;
      // a number is solved when it is entered (change: Enter or leaving the field), not for
      // every digit typed; the slider while it moves
      if (t.type === "text") return;
      if (t.id === "region_reach-schuif") $("region_reach").value = show("region_reach", Number(t.value));
      if (t.id && t.id.endsWith("-aan")) $(t.id.slice(0, -4)).disabled = !t.checked;
      if (t.name === "rho") $("region_reach").disabled = $("region_reach-schuif").disabled = !$("rho-vast").checked;
      later();
    });
    form.addEventListener("change", (e) => {
      if (e.target.type === "text") {  // a number entered: shown with separators, solved
        try { const v = P.number(e.target.value); if (Number.isFinite(v)) e.target.value = show(e.target.dataset.setting, v); } catch (err) { /* said by the check */ }
        if (e.target.id === "region_reach") $("region_reach-schuif").value = P.number(e.target.value);
      }
      clearTimeout(timer); update();
    });
    form.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target.type === "text") { e.preventDefault(); e.target.dispatchEvent(new Event("change", { bubbles: true })); } });
    const dl = $("gemeentenamen");
    for (const name of [...G.naam].sort((x, y) => x.localeCompare(y, "nl"))) {
      const o = document.createElement("option"); o.value = name; dl.append(o);
    }
    const found = () => {
      try {
        const code = P.resolve($("zoek").value);
        $("zoek-melding").textContent = "";
        look(INDEX.get(code));
        return code;
      } catch (e) {
        $("zoek-melding").textContent = e.message;
        return null;
      }
    };
    $("zoek").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); found(); } });
    $("zoek").addEventListener("change", found);
    $("zoek-knop").addEventListener("click", found);
    $("naar-run").addEventListener("click", () => { state = P.clean(D.begin); writeControls(state); update(); });
    $("naar-kaart").addEventListener("click", () => { state = P.clean({}); writeControls(state); update(); });
    $("lade-knop").addEventListener("click", () => { document.body.classList.add("lade-open"); $("lade-dicht").focus(); });
    $("lade-dicht").addEventListener("click", () => { document.body.classList.remove("lade-open"); $("lade-knop").focus(); });
    $("bewaar").addEventListener("click", () => {
      if (!current || !current.base) { message("Er is nu geen selectie om te bewaren."); return; }
      if (scenarios.length >= MAX_SCENARIOS) { message(`Hoogstens ${MAX_SCENARIOS} scenario's; verwijder er eerst een.`); return; }
      const naam = $("scenario-naam").value.trim() || `Scenario ${scenarios.length + 1}`;
      scenarios.push(scenarioOf(naam, current.s, current.base));
      $("scenario-naam").value = "";
      message("");
      showScenarios(); compare(); syncLink();
    });
    const copy = async (text, where) => {
      try { await navigator.clipboard.writeText(text); where.textContent = "Gekopieerd."; } catch (e) { where.textContent = "Kopieer de tekst hierboven met Ctrl+C."; }
    };
    $("kopieer").addEventListener("click", () => copy($("opdracht").textContent, $("opdracht-uitleg")));
    $("kopieer-link").addEventListener("click", () => copy(location.href, $("status")));
    $("kans-knop").addEventListener("click", computeKans);
    $("alle-kandidaten").addEventListener("click", () => {
      allAlternatives = true;
      if (current && current.x) alternativesTable(current.x, current.reasons, current.nums);
    });
    window.addEventListener("hashchange", () => {
      if (location.hash === toHash(state)) return;
      openLink().then((ok) => { if (ok) update(); });
    });
    window.addEventListener("beforeprint", () => { $("bronnen").open = true; });
  }
  // a link opened while the page is open (the address bar edited): its settings
  async function openLink() {
    let linked = null;
    try { linked = fromHash(location.hash); } catch (e) {
      message(`${e.message} De instellingen zijn niet veranderd.`);
      return false;
    }
    if (!linked) return false;
    message("");
    state = linked.s;
    writeControls(state);
    const first0 = scenarios[0];
    scenarios = [first0];
    for (const sc of linked.scenarios) {
      const got = await solveSettings(sc.s, "hook");
      if (got.base) scenarios.push(scenarioOf(sc.naam, got.s, got.base));
    }
    baseline = Math.min(linked.baseline, scenarios.length - 1);
    showScenarios();
    if (linked.kijk) looking = INDEX.get(linked.kijk);
    return true;
  }

  const ready = (async () => {
    drawMap();
    $("rho-kaart").textContent = D.rho.onzeker ? `${F.nlPct(D.rho.waarde)} (${F.nlPct(D.rho.laag)} tot ${F.nlPct(D.rho.hoog)})` : "niet in deze run (het deel is vast)";
    $("budget-uitleg").textContent = `Een pilot kost de vaste kosten plus ${F.nlAboutEur(D.kosten_per_plaatsing)} per verwachte plaatsing binnen haar bereik over ${F.nlInt(D.periode_jaren)} jaar (${D.scenario}; prijzen van 2006–2008).`;
    state = P.clean(D.begin);
    if (G.kans.every((x) => Number.isFinite(x))) kansFor.set(settingsKey(state), G.kans);  // the run's own
    // a link is read before the solver loads: a bad one is said at once
    let linked = null;
    try { linked = fromHash(location.hash); } catch (e) {
      message(`${e.message} De pagina opent met de instellingen van de run.`);
    }
    if (linked) state = linked.s;
    writeControls(state);
    wire();
    try {
      await host.load();
    } catch (e) {
      status(`De oplosser kon niet laden: ${e.message}`);
      $("resultaat").dataset.state = "fout";
      throw e;
    }
    $("solver-versie").textContent = `HiGHS ${host.version}${host.inPage ? ", in de pagina zelf" : ", naast de pagina"}`;
    const run = await solveSettings(D.begin, "hook");
    scenarios = [scenarioOf("De instellingen van de run", run.s, run.base)];
    if (linked) {  // the kept scenarios are solved again here: a link carries settings, not answers
      for (const sc of linked.scenarios) {
        const got = await solveSettings(sc.s, "hook");
        if (got.base) scenarios.push(scenarioOf(sc.naam, got.s, got.base));
      }
      baseline = Math.min(linked.baseline, scenarios.length - 1);
      if (linked.kijk) looking = INDEX.get(linked.kijk);
    }
    showScenarios();
    await update();
  })();

  return { ready, solveSettings, publicPrices, state: () => state, command: (settings) => command(P.clean(settings)),
    chances: () => { const k = kansFor.get(settingsKey(state)); return k ? Object.fromEntries(G.code.map((c, i) => [c, k[i]])) : null; },
    scenarios: () => scenarios.map((sc) => ({ naam: sc.naam, selected: sc.chosen, objective: sc.objective, settings: sc.s })) };
})();

// the public hooks (tests and power users): the command line's flag names as keys
window.verkenner = {
  ready: VIB.page.ready,
  data: VIB.D,
  resolve: VIB.programme.resolve,
  settings: () => JSON.parse(JSON.stringify(VIB.page.state())),
  command: VIB.page.command,
  chances: VIB.page.chances,
  scenarios: VIB.page.scenarios,
  async explain(settings) {  // the whole answer: prices, swaps and reasons, by gemeentecode
    await VIB.page.ready;
    const a = await VIB.page.solveSettings(settings, "hook");
    if (a.infeasible) return { infeasible: { beperkingen: a.infeasible.beperkingen, tekst: a.infeasible.tekst } };
    const x = await VIB.explain.explain(a.s, a.nums, a.base, VIB.explain.noStep, "hook");
    const facts = VIB.explain.reasonFacts(a.s, a.nums, x, null);
    const G = VIB.D.gemeenten;
    const out = { selected: a.base.chosen.map((i) => G.code[i]).sort(), objective: a.base.objective,
      prices: VIB.page.publicPrices(x), swaps: {}, reasons: {}, alternatives: x.alternatives.map((i) => G.code[i]) };
    for (const [i, w] of x.swaps) out.swaps[G.code[i]] = { kind: w.kind, lost: w.loss, se: w.se, near: w.near,
      erin: w.came ? w.came.map((j) => G.naam[j]) : [], eruit: w.went ? w.went.map((j) => G.naam[j]) : [] };
    facts.forEach((f, i) => { out.reasons[G.code[i]] = VIB.format.say("reden", f); });
    return out;
  },
  async solve(settings) {  // a Promise of {selected, objective, prices}
    await VIB.page.ready;
    const a = await VIB.page.solveSettings(settings, "hook");
    if (a.infeasible) return { selected: [], objective: null, prices: {}, infeasible: { beperkingen: a.infeasible.beperkingen, tekst: a.infeasible.tekst } };
    const x = await VIB.explain.explain(a.s, a.nums, a.base, VIB.explain.noStep, "hook", true);
    return { selected: a.base.chosen.map((i) => VIB.D.gemeenten.code[i]).sort(), objective: a.base.objective,
      prices: VIB.page.publicPrices(x) };
  },
};
