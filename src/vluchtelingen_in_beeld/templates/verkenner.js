// The selectieverkenner: the selection programme of `vib rank` (selection.Problem), solved
// in the page by HiGHS (WebAssembly), with prices, swaps and reasons as rank.py makes them.
// Names are only ever set with textContent; nothing from the data is parsed as markup.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("verkenner-data").textContent);
  const G = D.gemeenten;
  const M = G.code.length;
  const K = D.regios.length;
  const P = D.provincies.length;
  const L = D.landsdelen.length;
  const INDEX = new Map(G.code.map((c, i) => [c, i]));
  const KEYS = ["n", "max_per_provincie", "max_per_regio", "min_per_landsdeel", "min_klein",
    "klein_onder", "max_groot", "groot_boven", "min_pool", "budget", "pilot_cost", "include",
    "exclude", "region_reach"];
  const OPTIONAL = ["max_per_provincie", "max_per_regio", "min_per_landsdeel", "min_klein",
    "max_groot", "min_pool", "budget"];
  const $ = (id) => document.getElementById(id);
  const bytesOf = (b64) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));  // base64

  // --- numbers the Dutch way (fmt.py) -----------------------------------------------------
  function whole(x) { return Math.sign(x) * Math.floor(Math.abs(x) + 0.5); }
  function roundSig(x, digits = 2) {
    if (x === 0 || !isFinite(x)) return x;
    const step = Math.pow(10, Math.floor(Math.log10(Math.abs(x))) - digits + 1);
    return Math.sign(x) * Math.floor(Math.abs(x) / step + 0.5) * step;
  }
  function nlDec(x, digits = 1) {
    const s = Math.abs(x).toFixed(digits);
    const [int, frac] = s.split(".");
    const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (x < 0 && Number(s) !== 0 ? "-" : "") + grouped + (frac ? "," + frac : "");
  }
  function nlInt(x) { return nlDec(x, 0); }
  function nlAbout(x, count = true) {
    if (x === null || x === undefined || !isFinite(x)) return "onbekend";
    let v = x;
    if (count) {
      const c = whole(v);
      if (v !== 0 && Math.abs(c) < 10) return "minder dan 10";
      v = c;
    }
    const r = roundSig(v);
    if (r === 0) return "0";
    const digits = count ? 0 : Math.max(0, 1 - Math.floor(Math.log10(Math.abs(r))));
    return nlDec(r, digits);
  }
  function isSmall(x) { return !isFinite(x) || Math.abs(whole(x)) < 10; }
  function nlPct(x, digits = 0) { return isFinite(x) ? nlDec(x * 100, digits) + "%" : "onbekend"; }
  function nlShare(x) {
    if (!isFinite(x)) return "onbekend";
    return Math.abs(x) > 0 && Math.abs(x) < 0.005 ? "minder dan 1%" : nlPct(x);
  }
  function nlProb(x) {
    if (!isFinite(x)) return "onbekend";
    return x < 0.01 ? "< 1%" : x > 0.99 ? "> 99%" : nlPct(x);
  }
  function nlNum(x) {  // a parameter as written: 0.1 -> "0,10", 0.25 -> "0,25" (fmt.nl_num)
    if (Number.isInteger(x)) return nlInt(x);
    if (Math.abs(x) < 1) {
      const [w, f] = String(Number(x.toPrecision(4))).split(".");
      return `${w},${(f || "").padEnd(2, "0")}`;
    }
    return nlDec(x, 3).replace(/0+$/, "").replace(/,$/, "");
  }
  const pilots = (n) => `${n} ${n === 1 ? "pilot" : "pilots"}`;
  const gemeenten = (n) => `${n} ${n === 1 ? "gemeente" : "gemeenten"}`;
  function nlList(items) {
    return items.length > 1 ? items.slice(0, -1).join(", ") + " en " + items[items.length - 1]
      : items.join("");
  }

  // --- names as the command line resolves them (names.py) ----------------------------------
  function normalise(text) {
    const plain = String(text).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    return plain.replace(/[^0-9a-z]+/g, " ").trim().split(/\s+/).filter(Boolean).join(" ");
  }
  const label = (i) => `${G.naam[i]} (${G.code[i]})`;
  function similarity(a, b) {  // Sørensen–Dice on letter pairs: enough for "bedoelde u"
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
    const m = raw.match(/^(gm)?\s*(\d{1,4})$/i);
    if (m) {
      const code = "GM" + m[2].padStart(4, "0");
      if (!INDEX.has(code)) throw new Error(`Geen gemeente met code ${code} in de lijst van ${M} gemeenten van ${D.jaar}; probeer de naam.`);
      return code;
    }
    let key = normalise(raw);
    key = D.namen.aliases[key] || key;
    for (const index of [D.namen.full, D.namen.base]) {
      const hits = index[key] || [];
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) {
        throw new Error(`"${raw}" past bij ${hits.length} gemeenten: ${hits.slice().sort().map((c) => label(INDEX.get(c))).join(", ")}. Geef de volledige naam of de code.`);
      }
    }
    const close = G.naam.map((n, i) => [similarity(key, normalise(n)), i])
      .filter(([s]) => s >= 0.5).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, i]) => label(i));
    throw new Error(`Geen gemeente "${raw}" in de lijst van ${M} gemeenten.` +
      (close.length ? ` Bedoelt u ${nlList(close)}?` : "") + " Een CBS-code zoals GM0363 kan ook.");
  }

  // --- settings ------------------------------------------------------------------------------
  function clean(settings) {
    // a settings object with the CLI's flag names (dashes or underscores, "--" or not)
    const out = JSON.parse(JSON.stringify(D.standaard));
    for (const [rawKey, value] of Object.entries(settings || {})) {
      const key = rawKey.replace(/^--/, "").replace(/-/g, "_");
      if (!KEYS.includes(key)) throw new Error(`Onbekende instelling "${rawKey}"; bekend: ${KEYS.join(", ")}.`);
      if (key === "include" || key === "exclude") {
        const list = Array.isArray(value) ? value : value ? [value] : [];
        out[key] = [...new Set(list.map(resolve))];
      } else if (value === null || value === "none" || value === undefined) {
        if (key === "n" || key === "klein_onder" || key === "groot_boven" || key === "pilot_cost") {
          throw new Error(`${key} kan niet uit.`);
        }
        out[key] = null;
      } else {
        const v = Number(value);
        if (!isFinite(v)) throw new Error(`${key}: "${value}" is geen getal.`);
        out[key] = v;
      }
    }
    return out;
  }
  function check(s) {
    const int = (v) => Number.isInteger(v);
    if (!int(s.n) || s.n < 1) throw new Error(`Het aantal pilots moet een geheel getal van minstens 1 zijn (nu ${nlNum(s.n)}).`);
    for (const k of ["max_per_provincie", "max_per_regio"]) {
      if (s[k] !== null && (!int(s[k]) || s[k] < 1)) throw new Error(`${describe(k, s)}: moet een geheel getal van minstens 1 zijn (of uit).`);
    }
    for (const k of ["min_per_landsdeel", "min_klein", "max_groot", "min_pool"]) {
      if (s[k] !== null && (!int(s[k]) || s[k] < 0)) throw new Error(`${describe(k, s)}: moet een geheel getal van 0 of meer zijn (of uit).`);
    }
    for (const k of ["klein_onder", "groot_boven"]) {
      if (!(s[k] > 0 && s[k] <= 1e8)) throw new Error(`Een grens in inwoners moet boven 0 liggen (nu ${nlNum(s[k])}).`);
    }
    if (s.min_klein && s.max_groot !== null && s.klein_onder > s.groot_boven) {
      throw new Error(`De grens voor klein (${nlInt(s.klein_onder)}) ligt boven die voor groot (${nlInt(s.groot_boven)}): een gemeente zou klein en groot tegelijk zijn.`);
    }
    if (s.budget !== null && !(s.budget > 0)) throw new Error("Het budget moet boven € 0 liggen (of uit).");
    if (!(s.pilot_cost >= 0)) throw new Error("De vaste kosten per pilot moeten € 0 of meer zijn.");
    if (s.region_reach !== null && !(s.region_reach >= 0 && s.region_reach <= 1)) {
      throw new Error(`ρ is een aandeel van 0 tot 1 (nu ${nlNum(s.region_reach)}).`);
    }
    const both = s.include.filter((c) => s.exclude.includes(c));
    if (both.length) throw new Error(`${nlList(both.map((c) => G.naam[INDEX.get(c)]))} is zowel vastgezet als uitgesloten; kies één.`);
  }
  function describe(name, s) {
    const v = s[name];
    switch (name) {
      case "n": return `${v} voortrekkersgemeenten`;
      case "max_per_provincie": return `hoogstens ${v} per provincie`;
      case "max_per_regio": return `hoogstens ${v} per arbeidsmarktregio`;
      case "min_per_landsdeel": return `minstens ${v} per landsdeel`;
      case "min_klein": return `minstens ${v} onder ${nlInt(s.klein_onder)} inwoners`;
      case "max_groot": return `hoogstens ${v} boven ${nlInt(s.groot_boven)} inwoners`;
      case "min_pool": return `minstens ${nlInt(v || 0)} verwachte gesprekken per pilot in het eerste jaar`;
      case "budget": return `budget € ${nlInt(v || 0)}`;
      case "include": return `vastgezet: ${nlList(s.include.map((c) => G.naam[INDEX.get(c)]))}`;
      case "exclude": return `uitgesloten: ${nlList(s.exclude.map((c) => G.naam[INDEX.get(c)]))}`;
      default: return name;
    }
  }
  function reasonOf(k, s) {  // why a constraint is there: the card's reason, unless set here
    if (k === "include" || k === "exclude") return "";
    const with_ = { min_klein: ["klein_onder"], max_groot: ["groot_boven"], budget: ["pilot_cost"] }[k] || [];
    const same = [k, ...with_].every((x) => JSON.stringify(s[x]) === JSON.stringify(D.standaard[x]));
    return same ? D.redenen[k] || "" : "hier ingesteld, niet uit de methodekaart";
  }
  function active(s) {  // Constraints.active(): the card's limits that are on, then forcing
    // a floor of 0 asks for nothing (off); a cap of 0 large gemeenten binds (on)
    const out = D.limits.filter((k) => (k === "max_groot" ? s[k] !== null : s[k] !== null && s[k] !== 0));
    for (const k of ["include", "exclude"]) if (s[k].length) out.push(k);
    return out;
  }
  function without(s, name) {
    const out = { ...s, include: s.include.slice(), exclude: s.exclude.slice() };
    out[name] = name === "include" || name === "exclude" ? [] : null;
    return out;
  }
  function forcing(s, how, code) {
    const out = { ...s, include: s.include.slice(), exclude: s.exclude.slice() };
    if (!out[how].includes(code)) out[how].push(code);
    return out;
  }

  // --- the programme's numbers (rank.ProgrammeNumbers) ---------------------------------------
  const regionOf = Int32Array.from(G.regio);
  function regionSum(x) {
    const out = new Float64Array(K);
    for (let i = 0; i < M; i++) out[regionOf[i]] += x[i];
    return out;
  }
  const cache = new Map();
  function numbers(rho) {
    const key = rho === null ? "kaart" : String(rho);
    if (cache.has(key)) return cache.get(key);
    let a, b, pool, plac;
    if (rho === null) {
      a = Float64Array.from(G.a); b = Float64Array.from(D.b);
      pool = Float64Array.from(G.pool); plac = Float64Array.from(G.plac);
    } else {  // ρ fixed: every mean is linear in ρ (verkenner.py)
      const jr = regionSum(G.j), cr = regionSum(G.jconv), pr = regionSum(G.jplac);
      a = new Float64Array(M); b = new Float64Array(K); pool = new Float64Array(M); plac = new Float64Array(M);
      for (let i = 0; i < M; i++) {
        a[i] = (1 - rho) * G.j[i];
        pool[i] = ((1 - rho) * G.jconv[i] + rho * cr[regionOf[i]]) / D.periode_jaren;
        plac[i] = (1 - rho) * G.jplac[i] + rho * pr[regionOf[i]];
      }
      for (let r = 0; r < K; r++) b[r] = rho * jr[r];
    }
    const reach = new Float64Array(M);
    for (let i = 0; i < M; i++) reach[i] = a[i] + b[regionOf[i]];
    const out = { a, b, pool, plac, reach, rho };
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
      rows.push(all.map((i) => [i, s.pilot_cost + D.kosten_per_traject * nums.plac[i]]));
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
  class Cancelled extends Error {}  // a newer change stopped this computation

  // HiGHS runs in a Web Worker, so the page stays responsive while it solves (a budget makes
  // every re-solve a branch and bound of seconds) and a newer change stops a solve at once.
  // makeHost is the worker's code: it loads highs.js from its source text and the compiled
  // wasm, and answers {id, data, options} with {id, status, x}.
  function makeHost(post) {
    let highs = null;
    return async function handle(m) {
      if (m.type === "init") {
        try {
          const load = new Function(m.src + "\nreturn Module;")();
          highs = await load({
            instantiateWasm(imports, done) {
              WebAssembly.instantiate(m.module, imports).then((instance) => done(instance));
              return {};
            },
            print() {},
            printErr() {},
          });
          post({ type: "ready", version: highs.version.string });
        } catch (err) {
          post({ type: "failed", message: String((err && err.message) || err) });
        }
        return;
      }
      try {
        const data = { ...m.data, sense: highs.constants.objectiveSense.maximize };
        const model = highs.createModel(data);
        try {
          model.options.set(m.options);
          const run = model.run();
          const st = highs.constants.modelStatus;
          const status = run.modelStatus === st.optimal ? "optimal" : run.modelStatus === st.infeasible
            ? "infeasible" : run.modelStatus === st.timeLimit ? "time_limit" : `status ${run.modelStatus}`;
          post({ id: m.id, status, x: status === "optimal" ? model.getSolution().colValue : null });
        } finally {
          model.dispose();
        }
      } catch (err) {
        post({ id: m.id, status: "error", message: String((err && err.message) || err) });
      }
    };
  }
  const solver = {
    worker: null, send: null, pending: new Map(), next: 1, module: null, src: "",
    version: "", inPage: false, epoch: 0, ready: null,
    receive(m) {
      const job = this.pending.get(m.id);
      if (!job) return;  // a cancelled job's late answer
      this.pending.delete(m.id);
      job.resolve(m);
    },
    start() {
      return new Promise((resolve, reject) => {
        const ready = (m) => {
          if (m.type === "ready") { this.version = m.version; resolve(); return true; }
          if (m.type === "failed") { reject(new Error(m.message)); return true; }
          return false;
        };
        try {
          const code = `const handle = (${makeHost.toString()})((m) => self.postMessage(m));\nself.onmessage = (e) => handle(e.data);`;
          const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
          this.worker = new Worker(url);
          this.worker.onmessage = (e) => { if (!ready(e.data)) this.receive(e.data); };
          this.worker.onerror = (e) => {  // a worker that fails: its jobs fail, the page solves
            e.preventDefault();
            const failed = [...this.pending.values()];
            this.pending.clear();
            for (const job of failed) job.reject(new Error("De oplosser viel uit; verander een instelling om opnieuw te rekenen."));
            this.ready = new Promise((ok, no) => this.startInPage((m) => {
              if (m.type === "ready") { this.version = m.version; ok(); resolve(); return true; }
              if (m.type === "failed") { no(new Error(m.message)); reject(new Error(m.message)); return true; }
              return false;
            }));
            this.ready.catch(() => {});
          };
          this.send = (m) => this.worker.postMessage(m);
        } catch (err) {
          this.startInPage(ready);
          return;
        }
        this.send({ type: "init", src: this.src, module: this.module });
      });
    },
    startInPage(ready) {  // no worker (a browser that refuses one from a file): solve here
      if (this.worker) this.worker.terminate();
      this.worker = null;
      this.inPage = true;
      const handle = makeHost((m) => { if (!ready(m)) this.receive(m); });
      this.send = (m) => { handle(m); };
      this.send({ type: "init", src: this.src, module: this.module });
    },
    run(data, options, owner = "page") {
      const id = this.next++;
      const message = { id, data, options };
      return new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject, owner, message });
        this.send(message);
      });
    },
    cancel() {
      // a newer change wants the solver: the page's jobs of earlier changes stop (those not
      // sent yet see the new epoch); the hooks' jobs go on, on a fresh worker if need be
      this.epoch++;
      const page = [...this.pending].filter(([, job]) => job.owner === "page");
      if (!page.length) return;
      for (const [id, job] of page) { this.pending.delete(id); job.reject(new Cancelled("afgebroken")); }
      if (this.worker) {
        this.worker.terminate();
        const keep = [...this.pending.values()];
        this.ready = this.start().then(() => { for (const job of keep) this.send(job.message); });
        this.ready.catch(() => {});
      }
    },
  };

  async function runModel(pr, cost, cols, integer) {
    // HiGHS on the columns `cols` (gemeenten, then the y of the regions when not folded)
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
      colLower: Float64Array.from(cols, (c) => (c < M ? pr.lb[c] : 0)),
      colUpper: Float64Array.from(cols, (c) => (c < M ? pr.ub[c] : 1)),
      rowLower: Float64Array.from(lo), rowUpper: Float64Array.from(hi),
      matrix: { format: "csr", numRows: rows.length, numCols: n, starts: Int32Array.from(starts),
        indices: Int32Array.from(indices), values: Float64Array.from(values) },
    };
    if (integer) data.integrality = Int32Array.from(cols, (c) => (c < M ? 1 : 0));
    // the options of _impl/highs.py
    const options = { output_flag: false, dual_feasibility_tolerance: 1e-10 };
    if (integer) Object.assign(options, { mip_rel_gap: 0, mip_abs_gap: 1e-7, time_limit: D.time_limit });
    const owner = pr.owner || "page", epoch = solver.epoch;
    if (solver.ready) await solver.ready;
    if (owner === "page" && epoch !== solver.epoch) throw new Cancelled("afgebroken");
    const reply = await solver.run(data, options, owner);
    if (reply.status === "infeasible") throw new Infeasible("infeasible");
    if (reply.status === "time_limit") {
      throw new Error(`De selectie is niet binnen ${D.time_limit} s opgelost; maak een eis losser of kies minder pilots.`);
    }
    if (reply.status !== "optimal") throw new Error(`De oplosser stopte zonder optimum (${reply.message || reply.status}).`);
    return reply.x;
  }
  // y[r] <= Σ x[m in r]: a region's rest is reached once (the rows of the y columns)
  const yRows = [], yLo = [], yHi = [];
  for (let r = 0; r < K; r++) {
    const row = [];
    for (let i = 0; i < M; i++) if (regionOf[i] === r) row.push([i, -1]);
    row.push([M + r, 1]);
    yRows.push(row); yLo.push(-M); yHi.push(0);
  }
  function pruned(pr, own) {
    // selection.Problem._pruned: per class of the same provincie, region, landsdeel, size
    // and pool, only the best `keep` can be in an optimum (all of them with a budget)
    if (pr.s.budget !== null) return Array.from({ length: M }, (_, i) => i);
    const caps = [pr.s.n, pr.s.max_per_provincie, pr.s.max_per_regio].filter((v) => v !== null);
    const keep = Math.min(...caps);
    const byClass = new Map();
    for (let i = 0; i < M; i++) {
      const size = (G.inwoners[i] < pr.s.klein_onder ? 1 : 0) - (G.inwoners[i] > pr.s.groot_boven ? 1 : 0);
      const pool = pr.s.min_pool ? (pr.nums.pool[i] >= pr.s.min_pool ? 1 : 0) : 1;
      const key = `${G.provincie[i]}|${regionOf[i]}|${G.landsdeel[i]}|${size}|${pool}`;
      if (!byClass.has(key)) byClass.set(key, []);
      byClass.get(key).push(i);
    }
    const out = [];
    for (const members of byClass.values()) {
      members.sort((x, y) => own[y] - own[x] || x - y);
      members.forEach((i, k) => { if ((k < keep || pr.lb[i] > 0) && pr.ub[i] > 0) out.push(i); });
    }
    return out.sort((x, y) => x - y);
  }
  async function solveWith(pr, a, b) {
    // (chosen indices, objective) for values [a, b], as selection.Problem.solve: the LP
    // relaxation first, which is the integer optimum when its x is integral; otherwise branch
    // and bound over the candidates that can be in an optimum. Throws Infeasible.
    for (let i = 0; i < M; i++) if (pr.lb[i] > pr.ub[i]) throw new Infeasible("lb > ub");
    const cost = new Float64Array(M + K);
    for (let i = 0; i < M; i++) cost[i] = a[i] + D.tie * G.j[i] + (pr.fold ? b[regionOf[i]] : 0);
    for (let r = 0; r < K; r++) cost[M + r] = b[r];
    const ys = pr.fold ? [] : Array.from({ length: K }, (_, r) => M + r);
    const everyone = Array.from({ length: M }, (_, i) => i).concat(ys);
    const x = await runModel(pr, cost, everyone, false);
    let chosen = [];
    let integral = true;
    for (let i = 0; i < M; i++) {
      if (Math.abs(x[i] - Math.round(x[i])) > 1e-7) integral = false;
      if (x[i] > 0.5) chosen.push(i);
    }
    if (!integral) {
      const idx = pruned(pr, cost);
      const xi = await runModel(pr, cost, idx.concat(ys), true);
      chosen = idx.filter((_, k) => xi[k] > 0.5);
    }
    return { chosen, objective: objectiveOf(chosen, a, b) };
  }
  async function trySolve(s, nums, owner = "page") {
    try { return await solveWith(problem(s, nums, owner), nums.a, nums.b); } catch (e) { if (e instanceof Infeasible) return null; throw e; }
  }

  // --- why no selection exists (selection.why_infeasible) -----------------------------------
  async function whyInfeasible(s, nums, owner = "page") {
    const name = (c) => G.naam[INDEX.get(c)];
    const eligible = Array.from({ length: M }, (_, i) => i).filter((i) => !s.exclude.includes(G.code[i]));
    if (s.include.length > s.n) {
      return { beperkingen: ["include", "n"], tekst: `Er zijn ${s.include.length} gemeenten vastgezet, maar het aantal pilots is ${s.n}.` };
    }
    if (eligible.length < s.n) {
      return { beperkingen: ["exclude", "n"], tekst: `Er blijven maar ${eligible.length} gemeenten over, minder dan ${s.n}.` };
    }
    if (s.min_pool) {
      const big = (i) => nums.pool[i] >= s.min_pool;
      const small = s.include.filter((c) => !big(INDEX.get(c)));
      if (small.length) {
        return { beperkingen: ["min_pool", "include"], tekst: `Minstens ${nlInt(s.min_pool)} verwachte gesprekken per pilot: ${nlList(small.map(name))} is vastgezet maar heeft er minder in het eerste jaar. Verlaag de eis of geef haar vrij.` };
      }
      const count = eligible.filter(big).length;
      if (count < s.n) {
        return { beperkingen: ["min_pool", "n"], tekst: `Minstens ${nlInt(s.min_pool)} verwachte gesprekken per pilot: maar ${count} gemeenten hebben er zoveel, minder dan ${s.n}. Verlaag de eis of het aantal.` };
      }
    }
    for (const [key, of, count, word, plural] of [["max_per_provincie", G.provincie, P, "provincie", "provincies"], ["max_per_regio", G.regio, K, "arbeidsmarktregio", "arbeidsmarktregio's"]]) {
      if (s[key] === null) continue;
      const per = new Array(count).fill(0);
      for (const i of eligible) per[of[i]]++;
      const groups = per.filter((x) => x > 0);
      const most = groups.reduce((t, x) => t + Math.min(x, s[key]), 0);
      if (most < s.n) {
        return { beperkingen: [key, "n"], tekst: `Hoogstens ${s[key]} per ${word} over ${groups.length} ${plural} geeft hoogstens ${most} gemeenten, minder dan ${s.n}. Verhoog de eis of verlaag het aantal.` };
      }
    }
    const floors = [], floorNames = [];
    if (s.min_per_landsdeel) {
      const parts = new Set(eligible.map((i) => G.landsdeel[i])).size;
      if (s.min_per_landsdeel * parts > s.n) { floors.push(`minstens ${s.min_per_landsdeel} in elk van de ${parts} landsdelen vraagt er ${s.min_per_landsdeel * parts}`); floorNames.push("min_per_landsdeel"); }
    }
    if (s.min_klein && s.min_klein > s.n) { floors.push(`minstens ${s.min_klein} kleine gemeenten vraagt er ${s.min_klein}`); floorNames.push("min_klein"); }
    if (floors.length) {
      return { beperkingen: ["n", ...floorNames], tekst: `${pilots(s.n)} ${s.n === 1 ? "is" : "zijn"} minder dan de eisen vragen: ${floors.join("; ")}. Kies meer pilots of zet die eisen uit.` };
    }
    const ones = { a: new Float64Array(M).fill(1), b: new Float64Array(K).fill(1) };
    const feasible = async (t) => { try { await solveWith(problem(t, nums, owner), ones.a, ones.b); return true; } catch (e) { if (e instanceof Infeasible) return false; throw e; } };
    const culprits = [];
    for (const k of active(s)) if (await feasible(without(s, k))) culprits.push(k);
    if (culprits.length) {
      const said = culprits.map((k) => { const why = reasonOf(k, s); return `${describe(k, s)}${why ? " — " + why.replace(/[.]$/, "") + " —" : ""}`; });
      return { beperkingen: culprits, tekst: `Zonder de eis ${said.join(" of zonder de eis ")} bestaat er wel een selectie. Maak ${culprits.length === 1 ? "die eis" : "een van die eisen"} losser.` };
    }
    const act = active(s).filter((k) => k !== "include" && k !== "exclude");
    for (let i = 0; i < act.length; i++) {
      for (const b2 of act.slice(i + 1)) {
        if (await feasible(without(without(s, act[i]), b2))) {
          return { beperkingen: [act[i], b2], tekst: `De eisen ${describe(act[i], s)} en ${describe(b2, s)} laten samen geen selectie toe; zonder beide wel. Maak een van beide losser.` };
        }
      }
    }
    return { beperkingen: active(s), tekst: `De eisen samen laten geen selectie toe (${active(s).map((k) => describe(k, s)).join("; ")}); maak er een losser.` };
  }

  // --- the standard error of a swap (rank._swaps' verschil_se) -----------------------------
  function unpackUpper(b64, n) {
    return { tri: new Float32Array(bytesOf(b64).buffer), n };
  }
  let covValues = null, covJ = null;
  function covAt(c, i, j) {
    if (i > j) [i, j] = [j, i];
    return c.tri[i * c.n - (i * (i - 1)) / 2 + (j - i)];
  }
  function quad(c, w) {  // wᵀ Σ w for a sparse w (Map index -> weight)
    const ent = [...w.entries()].filter(([, v]) => v !== 0);
    let total = 0;
    for (const [i, wi] of ent) for (const [j, wj] of ent) total += wi * wj * covAt(c, i, j);
    return Math.max(total, 0);
  }
  function swapSE(base, alt, rho) {
    const wa = new Map(), wb = new Map();
    const add = (mp, k, v) => mp.set(k, (mp.get(k) || 0) + v);
    for (const i of base) add(wa, i, 1);
    for (const i of alt) add(wa, i, -1);
    for (const r of new Set(base.map((i) => regionOf[i]))) add(wb, r, 1);
    for (const r of new Set(alt.map((i) => regionOf[i]))) add(wb, r, -1);
    let v;
    if (rho === null) {
      covValues = covValues || unpackUpper(D.cov_values, M + K);
      const w = new Map(wa);
      for (const [r, x] of wb) w.set(M + r, x);
      v = quad(covValues, w);
    } else {  // diff = u · J with u[m] = (1 − ρ) wa[m] + ρ wb[r(m)]
      covJ = covJ || unpackUpper(D.cov_j, M);
      const u = new Map();
      for (const [i, x] of wa) add(u, i, (1 - rho) * x);
      for (let i = 0; i < M; i++) { const x = wb.get(regionOf[i]); if (x) add(u, i, rho * x); }
      v = quad(covJ, u);
    }
    return Math.sqrt(v / D.draws);
  }

  // --- one full answer: selection, prices, swaps, reasons (rank.rank) -----------------------
  const namesOf = (set) => [...set].map((i) => G.code[i]).sort().map((c) => G.naam[INDEX.get(c)]);
  const noStep = async () => {};
  async function prices(s, nums, base, step = noStep, owner = "page") {  // step() after each re-solve
    const chosen = new Set(base.chosen);
    const rows = [], movedIn = {}, movedOut = {};
    for (const name of active(s)) {
      const again = await trySolve(without(s, name), nums, owner);
      await step();
      if (again === null) continue;
      const now = new Set(again.chosen);
      movedIn[name] = new Set([...now].filter((i) => !chosen.has(i)));
      movedOut[name] = new Set([...chosen].filter((i) => !now.has(i)));
      const gain = again.objective - base.objective;
      rows.push({ name, prijs: Math.max(gain, 0), bindend: gain > 1e-9 * Math.max(base.objective, 1), erin: namesOf(movedIn[name]), eruit: namesOf(movedOut[name]) });
    }
    const more = await trySolve({ ...s, n: s.n + 1 }, nums, owner);
    await step();
    if (more !== null) {
      const now = new Set(more.chosen);
      rows.push({ name: "n", prijs: more.objective - base.objective, bindend: true, erin: namesOf([...now].filter((i) => !chosen.has(i))), eruit: namesOf([...chosen].filter((i) => !now.has(i))) });
    }
    return { rows, movedIn, movedOut };
  }
  async function swaps(s, nums, base, step = noStep, owner = "page") {  // step() after each re-solve
    const chosen = new Set(base.chosen);
    const out = new Map();
    const measure = async (t, outIndex) => {
      const again = await trySolve(t, nums, owner);
      if (again === null) return null;
      const now = new Set(again.chosen);
      const lost = base.objective - again.objective;
      const se = swapSE(base.chosen, again.chosen, nums.rho);
      return { lost, se, near: lost < se || lost < D.near_share * base.objective,
        erin: namesOf([...now].filter((i) => !chosen.has(i))),
        eruit: namesOf([...chosen].filter((i) => !now.has(i) && i !== outIndex)) };
    };
    for (const i of [...chosen].sort((x, y) => (G.code[x] < G.code[y] ? -1 : 1))) {
      if (s.include.includes(G.code[i])) continue;
      out.set(i, { kind: "eruit", ...((await measure(forcing(s, "exclude", G.code[i]), i)) || { geen: "zonder deze gemeente" }) });
      await step();
    }
    const rest = Array.from({ length: M }, (_, i) => i).filter((i) => !chosen.has(i) && !s.exclude.includes(G.code[i]));
    rest.sort((x, y) => nums.reach[y] - nums.reach[x] || x - y);
    for (const i of rest.slice(0, D.near)) {
      out.set(i, { kind: "erin", ...((await measure(forcing(s, "include", G.code[i]), -1)) || { geen: "met deze gemeente" }) });
      await step();
    }
    return out;
  }
  function verb(names, one, many) { return `${names.length > 1 ? many : one} ${nlList(names)}`; }
  function come(names) { return names.length ? verb(names, "komt", "komen") : "komt niemand anders"; }
  function whyNear(loss, se) {
    return loss < se ? "verschil is kleiner dan de onzekerheid van de schatting" : `verschil is minder dan ${nlPct(D.near_share)} van wat de selectie bereikt`;
  }
  function leaveOutText(i, sw, objective) {
    const share = objective ? nlShare(sw.lost / objective) : "–";
    const swap = `dan ${come(sw.erin)} erin` + (sw.eruit.length ? ` en ${verb(sw.eruit, "gaat", "gaan")} er ook uit` : "");
    if (isSmall(sw.lost)) return `Zonder ${G.naam[i]} bereikt de selectie vrijwel evenveel mensen; ${swap}`;
    return `Zonder ${G.naam[i]} bereikt de selectie ${nlAbout(sw.lost)} mensen minder (${share}); ${swap}`;
  }
  function order(base, measured, nums) {
    const sw = measured || new Map();
    const sel = base.chosen.slice().sort((x, y) => {
      const kx = sw.get(x) && sw.get(x).lost !== undefined ? sw.get(x).lost : -Infinity;
      const ky = sw.get(y) && sw.get(y).lost !== undefined ? sw.get(y).lost : -Infinity;
      return ky - kx || nums.reach[y] - nums.reach[x];
    });
    const chosen = new Set(base.chosen);
    const rest = Array.from({ length: M }, (_, i) => i).filter((i) => !chosen.has(i)).sort((x, y) => {
      const mx = sw.get(x) && sw.get(x).lost !== undefined, my = sw.get(y) && sw.get(y).lost !== undefined;
      if (mx !== my) return mx ? -1 : 1;
      if (mx) return sw.get(x).lost - sw.get(y).lost || nums.reach[y] - nums.reach[x];
      return nums.reach[y] - nums.reach[x];
    });
    return [...sel, ...rest];
  }
  function reasons(s, nums, base, pr, sw, kans) {
    const chosen = new Set(base.chosen);
    const objective = base.objective;
    const onMerit = base.chosen.filter((i) => !s.include.includes(G.code[i]));
    const weakest = onMerit.length ? onMerit.reduce((w, i) => (nums.reach[i] < nums.reach[w] ? i : w)) : null;
    const pct = (x) => (objective ? nlShare(x / objective) : "–");
    const tail = (i) => (kans ? `; kans gekozen ${nlProb(kans[i])}.` : ".");
    const out = new Array(M);
    for (let i = 0; i < M; i++) {
      const code = G.code[i];
      const base1 = `naar schatting ${nlAbout(G.werkzoekend[i])} werkzoekenden, met de regio erbij ${nlAbout(nums.reach[i])} binnen bereik`;
      const w = sw.get(i);
      if (chosen.has(i)) {
        let text = `Gekozen: ${base1}`;
        if (s.include.includes(code)) text += "; vastgezet";
        else if (w && w.lost !== undefined) {
          text += `. ${leaveOutText(i, w, objective)}`;
          if (w.near) text += ` (uitwisselbaar: het ${whyNear(w.lost, w.se)})`;
        } else if (w) text += `; geen vervanger: ${w.geen} is geen selectie mogelijk`;
        const ins = Object.keys(pr.movedOut).filter((k) => pr.movedOut[k].has(i) && !(k === "include" && s.include.includes(code)));
        if (ins.length) text += "; gekozen dankzij de eis " + ins.map((k) => describe(k, s)).join(" en de eis ");
        out[i] = text + tail(i);
        continue;
      }
      if (s.exclude.includes(code)) { out[i] = "Niet gekozen: uitgesloten."; continue; }
      const singles = Object.keys(pr.movedIn).filter((k) => pr.movedIn[k].has(i));
      if (singles.length) {
        out[i] = `Niet gekozen door ${singles.map((k) => "de eis " + describe(k, s)).join(" of ")}: zonder ${singles.length === 1 ? "die eis" : "een van die eisen"} komt ze erin; ${base1}` + tail(i);
        continue;
      }
      let swap = "";
      if (w && w.lost !== undefined) {
        swap = `erin gedwongen bereikt de selectie ${nlAbout(w.lost)} mensen minder (${pct(w.lost)}) en ${verb(w.eruit, "valt", "vallen")} af`;
        if (w.near) swap += ` (uitwisselbaar: het ${whyNear(w.lost, w.se)})`;
      }
      const same = base.chosen.filter((j) => regionOf[j] === regionOf[i]);
      let head;
      if (same.length) {
        head = `Niet gekozen: arbeidsmarktregio ${D.regios[regionOf[i]].naam} wordt al bereikt via ${same.map((j) => G.naam[j]).join(", ")}; als tweede pilot daar zou ze alleen haar eigen ${nlAbout(G.werkzoekend[i])} werkzoekenden toevoegen, niet de regio`;
      } else if (weakest !== null && nums.reach[i] < nums.reach[weakest]) {
        head = `Niet gekozen: bereik ${nlAbout(nums.reach[i])} tegen ${nlAbout(nums.reach[weakest])} voor ${G.naam[weakest]}, de kleinste gekozen`;
      } else {
        head = `Niet gekozen, ondanks een bereik van ${nlAbout(nums.reach[i])}: door de eisen samen (geen eis alleen houdt haar buiten)`;
      }
      out[i] = `${head}${swap ? "; " + swap : ""}` + tail(i);
    }
    return out;
  }

  // --- the public hook -----------------------------------------------------------------------
  async function solveSettings(settings, owner = "page") {
    const s = clean(settings);
    check(s);
    const nums = numbers(s.region_reach);
    const base = await trySolve(s, nums, owner);
    if (base === null) return { s, nums, infeasible: await whyInfeasible(s, nums, owner) };
    return { s, nums, base };
  }
  function publicPrices(rows) {
    const out = {};
    for (const r of rows) out[r.name] = r.prijs;
    return out;
  }

  // --- the page ------------------------------------------------------------------------------
  let state = null;      // the settings shown
  let generation = 0;    // a newer change cancels the rest of an older answer
  let current = null;    // the answer shown
  const kansFor = new Map();  // settings key -> chances (the run's own, and recounts)

  function readControls() {
    const s = { include: state.include.slice(), exclude: state.exclude.slice() };
    s.n = Number($("n").value);
    for (const k of OPTIONAL) s[k] = $(k + "-aan").checked ? Number($(k).value) : null;
    s.klein_onder = Number($("klein_onder").value);
    s.groot_boven = Number($("groot_boven").value);
    s.pilot_cost = Number($("pilot_cost").value);
    s.region_reach = $("rho-vast").checked ? Number($("region_reach").value) : null;
    return s;
  }
  function writeControls(s) {
    $("n").value = s.n;
    for (const k of OPTIONAL) {
      $(k + "-aan").checked = s[k] !== null;
      const fallback = D.standaard[k] !== null ? D.standaard[k] : { max_per_provincie: 2, max_per_regio: 1, min_per_landsdeel: 1, min_klein: 2, max_groot: 2, min_pool: 10, budget: 500000 }[k];
      $(k).value = s[k] !== null ? s[k] : fallback;
      $(k).disabled = s[k] === null;
    }
    $("klein_onder").value = s.klein_onder;
    $("groot_boven").value = s.groot_boven;
    $("pilot_cost").value = s.pilot_cost;
    const fixed = s.region_reach !== null || !D.rho.onzeker;
    $("rho-vast").checked = fixed;
    $("rho-onzeker").checked = !fixed;
    $("rho-onzeker").disabled = !D.rho.onzeker;
    const r = s.region_reach !== null ? s.region_reach : D.rho.waarde;
    $("region_reach").value = r;
    $("region_reach-schuif").value = r;
    $("region_reach").disabled = $("region_reach-schuif").disabled = !fixed;
    chips("vastgezet", s.include, "include");
    chips("uitgesloten", s.exclude, "exclude");
  }
  function chips(id, codes, how) {
    const ul = $(id);
    ul.replaceChildren();
    for (const c of codes) {
      const li = document.createElement("li");
      li.dataset.code = c;
      li.append(G.naam[INDEX.get(c)]);
      const x = document.createElement("button");
      x.type = "button"; x.textContent = "×"; x.title = "Vrijgeven";
      x.setAttribute("aria-label", `${G.naam[INDEX.get(c)]} vrijgeven`);
      x.addEventListener("click", () => { setForce(c, null); });
      li.append(x);
      ul.append(li);
    }
    if (!codes.length) { const li = document.createElement("li"); li.textContent = "geen"; li.className = "leeg"; ul.append(li); }
  }
  function setForce(code, how) {
    state = readControls();
    state.include = state.include.filter((c) => c !== code);
    state.exclude = state.exclude.filter((c) => c !== code);
    if (how) state[how].push(code);
    writeControls(state);
    if (infoIndex !== null) showInfo(infoIndex);
    update();
  }
  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  }
  function status(text) { $("status").textContent = text; }
  function clearResults() {
    current = null;
    $("kans-uitleg").textContent = "";
    $("kans-status").textContent = "";
    $("samenvatting").replaceChildren();
    for (const id of ["selectie", "prijzen", "kandidaten"]) $(id).tBodies[0].replaceChildren();
    paintMap([]);
  }
  function notice(text, names) {  // the box above the results: why there is no selection
    const box = $("onhaalbaar");
    box.hidden = !text;
    box.textContent = text || "";
    box.dataset.beperkingen = (names || []).join(",");
  }
  function answered(state) {  // an answer is shown: count it, and say what it is
    const res = $("resultaat");
    res.dataset.solve = String(Number(res.dataset.solve) + 1);
    res.dataset.state = state;
  }

  const pathEls = [];  // the map's areas, by gemeente index (their order in the SVG changes)
  function drawMap() {
    const K0 = D.kaartbeeld;
    const svg = $("kaart");
    svg.setAttribute("viewBox", `0 0 ${K0.width} ${K0.height}`);
    const ns = "http://www.w3.org/2000/svg";
    const areas = document.createElementNS(ns, "g");
    areas.id = "vlakken";
    for (let i = 0; i < M; i++) {
      const p = document.createElementNS(ns, "path");
      pathEls.push(p);
      p.setAttribute("d", K0.paths[i]);
      const cls = K0.klasse[i];
      p.setAttribute("fill", cls >= 0 ? K0.kleuren[cls] : "#bdbdbd");
      p.dataset.code = G.code[i];
      const title = document.createElementNS(ns, "title");
      title.textContent = G.naam[i];
      p.append(title);
      p.addEventListener("click", () => cycle(i));
      areas.append(p);
    }
    svg.append(areas);
    const labels = document.createElementNS(ns, "g");
    labels.id = "labels";
    svg.append(labels);
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
    const extra = document.createElement("li");
    extra.textContent = "dik omlijnd: gekozen; groen gestreept: vastgezet; vaag: uitgesloten";
    leg.append(extra);
  }
  function paintMap(chosen) {
    const set = new Set(chosen || []);
    for (let i = 0; i < M; i++) {
      const p = pathEls[i];
      p.classList.toggle("gekozen", set.has(i));
      p.classList.toggle("vast", state.include.includes(G.code[i]));
      p.classList.toggle("uit", state.exclude.includes(G.code[i]));
    }
    const ns = "http://www.w3.org/2000/svg";
    const labels = $("labels");
    labels.replaceChildren();
    // names of the chosen, the largest reach first; a name that would cover another is
    // moved up or down by a line (map units: the font is 70 high, a letter about 42 wide)
    const placed = [];
    const reach = current && current.nums ? current.nums.reach : G.werkzoekend;
    for (const i of [...set].sort((x, y) => reach[y] - reach[x])) {
      const [x, y] = D.kaartbeeld.labels[i];
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", x);
      t.setAttribute("y", y);
      t.textContent = G.naam[i];
      labels.append(t);
      let w = 42 * G.naam[i].length, h = 80;
      try { const box = t.getBBox(); if (box.width > 0) { w = box.width + 10; h = box.height; } } catch (e) { /* not drawn yet */ }
      const overlap = (dy) => placed.reduce((t, r) => {
        const ox = Math.max(0, Math.min(x + w / 2, r.x + r.w / 2) - Math.max(x - w / 2, r.x - r.w / 2));
        const oy = Math.max(0, Math.min(y + dy, r.y) - Math.max(y + dy - h, r.y - r.h));
        return t + ox * oy;
      }, 0);
      let best = 0;
      for (const dy of [0, -h, h, -2 * h, 2 * h]) {
        if (overlap(dy) === 0) { best = dy; break; }
        if (overlap(dy) < overlap(best)) best = dy;
      }
      placed.push({ x, y: y + best, w, h });
      t.setAttribute("y", y + best);
    }
    // the chosen drawn last, so their outline is on top
    for (const i of set) $("vlakken").append(pathEls[i]);
  }
  function cycle(i) {
    const code = G.code[i];
    const how = state.include.includes(code) ? "exclude" : state.exclude.includes(code) ? null : "include";
    infoIndex = i;
    setForce(code, how);
  }
  let infoIndex = null;
  function showInfo(i) {
    infoIndex = i;
    const box = $("info");
    box.replaceChildren();
    if (i === null) return;
    const h = document.createElement("strong");
    h.textContent = `${G.naam[i]} (${G.code[i]})`;
    const where = document.createElement("div");
    where.textContent = `${D.provincies[G.provincie[i]].naam} · arbeidsmarktregio ${D.regios[regionOf[i]].naam} · ${nlInt(G.inwoners[i])} inwoners`;
    const st = document.createElement("div");
    const code = G.code[i];
    st.textContent = state.include.includes(code) ? "Vastgezet (klik: uitsluiten)" : state.exclude.includes(code) ? "Uitgesloten (klik: vrijgeven)" : "Vrij (klik: vastzetten)";
    const why = document.createElement("p");
    why.className = "reden";
    why.textContent = current && current.reasons ? current.reasons[i] : "";
    box.append(h, where, st, why);
  }

  function summary(base, nums) {
    const box = $("samenvatting");
    box.replaceChildren();
    const jNL = G.werkzoekend.reduce((t, x) => t + (isFinite(x) ? x : 0), 0);
    const own = base.chosen.reduce((t, i) => t + G.werkzoekend[i], 0);
    const regions = [...new Set(base.chosen.map((i) => regionOf[i]))];
    const perRegion = regionSum(G.werkzoekend);
    const inRegions = regions.reduce((t, r) => t + perRegion[r], 0);
    const p = document.createElement("p");
    p.className = "kern";
    const b = document.createElement("b");
    b.id = "doel";
    b.dataset.waarde = String(base.objective);
    b.textContent = nlAbout(base.objective);
    const one = base.chosen.length === 1;
    p.append(one ? "De gekozen gemeente bereikt naar schatting " : `De ${base.chosen.length} gekozen gemeenten bereiken naar schatting `, b,
      ` werkzoekenden (${nlPct(base.objective / jNL)} van Nederland). ` + (one
        ? `Zelf heeft ze ${nlPct(own / jNL)} van de werkzoekenden in Nederland, haar arbeidsmarktregio ${nlPct(inRegions / jNL)}.`
        : `Zelf hebben ze ${nlPct(own / jNL)} van de werkzoekenden in Nederland, hun arbeidsmarktregio's samen ${nlPct(inRegions / jNL)}.`));
    const q = document.createElement("p");
    q.className = "uitleg";
    q.id = "aandeel";
    q.dataset.waarde = String(own / jNL);
    q.textContent = nums.rho === null
      ? `Bereik met ρ onzeker zoals de methodekaart (${nlNum(D.rho.waarde)}; ${nlNum(D.rho.laag)}–${nlNum(D.rho.hoog)}), gemiddeld over ${nlInt(D.draws)} doorrekeningen.`
      : `Bereik met ρ vast op ${nlNum(nums.rho)}: eigen werkzoekenden plus ${nlPct(nums.rho)} van de rest van de arbeidsmarktregio.`;
    box.append(p, q);
  }
  function table(base, nums, pr, sw, rs, kans) {
    const ord = order(base, sw, nums);
    const body = $("selectie").tBodies[0];
    body.replaceChildren();
    const chosen = new Set(base.chosen);
    let rank = 0;
    for (const i of ord) {
      if (!chosen.has(i)) continue;
      rank++;
      const tr = document.createElement("tr");
      tr.dataset.code = G.code[i];
      const w = sw ? sw.get(i) : null;
      cell(tr, String(rank), "n");
      cell(tr, G.naam[i]);
      cell(tr, D.provincies[G.provincie[i]].naam);
      cell(tr, nlAbout(G.werkzoekend[i]), "n");
      cell(tr, nlAbout(nums.reach[i]), "n");
      cell(tr, state.include.includes(G.code[i]) ? "vastgezet" : w && w.lost !== undefined ? nlAbout(w.lost) + (w.near ? " (uitwisselbaar)" : "") : sw ? "–" : "…", "n");
      cell(tr, w && w.erin ? (w.erin.length ? nlList(w.erin) : "niemand") + (w.eruit && w.eruit.length ? ` (ook eruit: ${nlList(w.eruit)})` : "") : w && w.geen ? `geen: ${w.geen} is geen selectie mogelijk` : "");
      cell(tr, kans ? nlProb(kans[i]) : "", "n");
      cell(tr, rs ? rs[i] : "", "reden");
      tr.addEventListener("click", () => showInfo(i));
      body.append(tr);
    }
    if (!pr) {  // being computed: nothing of the previous settings stays beside this selection
      for (const id of ["prijzen", "kandidaten"]) {
        const tr = document.createElement("tr");
        const td = cell(tr, "wordt berekend…");
        td.colSpan = 5;
        $(id).tBodies[0].replaceChildren(tr);
      }
      return;
    }
    const pbody = $("prijzen").tBodies[0];
    pbody.replaceChildren();
    for (const r of pr.rows) {
      const tr = document.createElement("tr");
      tr.dataset.eis = r.name;
      tr.dataset.prijs = String(r.prijs);
      cell(tr, r.name === "n" ? `aantal + 1 (${base.chosen.length + 1} in plaats van ${base.chosen.length})` : describe(r.name, state));
      cell(tr, r.name === "n" && r.prijs < 0 ? `${isSmall(r.prijs) ? "vrijwel 0" : "−" + nlAbout(-r.prijs)} (een pilot meer past binnen het budget alleen met goedkopere, kleinere pilots)` : r.bindend ? nlAbout(r.prijs) : "0 (niet bindend)", "n");
      cell(tr, r.bindend ? nlShare(r.prijs / base.objective) : "–", "n");
      cell(tr, nlList(r.erin));
      cell(tr, nlList(r.eruit));
      pbody.append(tr);
    }
    const kbody = $("kandidaten").tBodies[0];
    kbody.replaceChildren();
    for (const i of ord) {
      if (chosen.has(i)) continue;
      const w = sw.get(i);
      if (!w) continue;
      const tr = document.createElement("tr");
      tr.dataset.code = G.code[i];
      cell(tr, G.naam[i]);
      cell(tr, nlAbout(nums.reach[i]), "n");
      cell(tr, w.lost !== undefined ? nlAbout(w.lost) + (w.near ? " (uitwisselbaar)" : "") : "–", "n");
      cell(tr, w.eruit ? nlList(w.eruit) : w.geen || "");
      cell(tr, rs[i], "reden");
      tr.addEventListener("click", () => showInfo(i));
      kbody.append(tr);
    }
  }

  function settingsKey(s) { return JSON.stringify(KEYS.map((k) => s[k])); }
  function flagOf(k) { return "--" + k.replace(/_/g, "-"); }
  function differences(s) {
    const out = [];
    for (const k of KEYS) {
      if (k === "include" || k === "exclude") {
        const given = D.standaard[k];
        if (JSON.stringify(s[k]) !== JSON.stringify(given)) out.push([k, s[k]]);
      } else if (s[k] !== D.standaard[k]) out.push([k, s[k]]);
    }
    return out;
  }
  function command(s) {
    const parts = ["vib rank", ...D.opdracht.map(([k, v]) => `${flagOf(k)} ${v}`)];
    for (const [k, v] of differences(s)) {
      if (k === "include" || k === "exclude") for (const c of v) parts.push(`${flagOf(k)} ${c}`);
      else parts.push(`${flagOf(k)} ${v === null ? "none" : v}`);
    }
    return parts.join(" ");
  }
  function toHash(s) {
    const q = new URLSearchParams();
    q.set("v", "1");
    for (const [k, v] of differences(s)) q.set(k, Array.isArray(v) ? v.join(",") : v === null ? "none" : String(v));
    return "#" + q.toString();
  }
  function fromHash(hash) {
    const q = new URLSearchParams(hash.replace(/^#/, ""));
    if (!q.has("v")) return null;
    const given = {};
    for (const [k, v] of q.entries()) {
      if (k === "v") continue;
      given[k] = k === "include" || k === "exclude" ? v.split(",").filter(Boolean) : v === "none" ? null : v;
    }
    return clean(given);
  }
  function showCommand(s) {
    $("opdracht").textContent = command(s);
    $("opdracht-uitleg").textContent = D.opdracht.some(([k]) => k === "snapshot")
      ? `SNAPSHOT: de map van snapshot ${D.snapshot}.` : "";
  }

  async function update() {
    try {
      await answer();
    } catch (e) {  // a bug must not leave the page looking busy or complete
      $("resultaat").dataset.state = "fout";
      status(`Fout in de pagina: ${e.message}`);
      throw e;
    }
  }
  async function answer() {
    const mine = ++generation;
    solver.cancel();  // what an earlier change still solves is of no use now
    const res = $("resultaat");
    let s;
    try {
      s = clean(readControls());
      check(s);
    } catch (e) {  // nothing of an earlier answer stays on screen under the error
      clearResults();
      notice(`De instellingen kloppen niet: ${e.message}`);
      answered("fout");
      status("Verbeter de instelling; er is nu geen selectie.");
      if (infoIndex !== null) showInfo(infoIndex);
      return;
    }
    state = s;
    showCommand(s);
    res.dataset.state = "bezig";
    status("Oplossen…");
    await new Promise((r) => setTimeout(r, 0));
    if (mine !== generation) return;
    const t0 = performance.now();
    let answer;
    try {
      answer = await solveSettings(s);
    } catch (e) {
      if (e instanceof Cancelled || mine !== generation) return;
      clearResults();
      notice(e.message);
      answered("fout");
      status("Geen antwoord voor deze instellingen.");
      return;
    }
    if (mine !== generation) return;  // a newer change is being answered
    const nums = answer.nums;
    if (answer.infeasible) {
      clearResults();
      current = { s, infeasible: answer.infeasible };
      notice(`Geen selectie van ${gemeenten(s.n)} mogelijk: ${answer.infeasible.tekst}`, answer.infeasible.beperkingen);
      answered("onhaalbaar");
      status("Geen selectie mogelijk met deze eisen; verander er een.");
      if (infoIndex !== null) showInfo(infoIndex);
      return;
    }
    notice("");
    if (!$("kans-status").textContent.startsWith("afgebroken")) $("kans-status").textContent = "";
    const base = answer.base;
    current = { s, base, nums };
    summary(base, nums);
    paintMap(base.chosen);
    table(base, nums, null, null, null, null);
    res.dataset.state = "selectie";
    status(`Selectie opgelost in ${Math.round(performance.now() - t0)} ms; prijzen en vervangers worden berekend…`);
    if (infoIndex !== null) showInfo(infoIndex);
    let pr, sw, done = 1;
    const total = 1 + active(s).length + 1 + base.chosen.filter((i) => !s.include.includes(G.code[i])).length + D.near;
    const step = async () => {  // after each re-solve: progress, or stop for a newer change
      if (mine !== generation) throw new Cancelled("afgebroken");
      done++;
      status(`Selectie opgelost; prijzen en vervangers: ${done} van ongeveer ${total} keer opgelost…`);
    };
    try {
      pr = await prices(s, nums, base, step);
      sw = await swaps(s, nums, base, step);
    } catch (e) {
      if (e instanceof Cancelled || mine !== generation) return;
      for (const id of ["prijzen", "kandidaten"]) $(id).tBodies[0].replaceChildren();
      notice(`De selectie is opgelost, maar een herberekening voor de prijzen of vervangers niet: ${e.message.replace(/^De selectie is/, "Ze is")}`);
      answered("fout");
      status("De prijzen en vervangers konden niet worden berekend.");
      return;
    }
    const kans = kansFor.get(settingsKey(s)) || null;
    const rs = reasons(s, nums, base, pr, sw, kans);
    current = { s, base, nums, pr, sw, reasons: rs };
    table(base, nums, pr, sw, rs, kans);
    if (infoIndex !== null) showInfo(infoIndex);
    $("kans-uitleg").textContent = kans
      ? `Kans gekozen over ${kansCount(s)} opnieuw opgeloste doorrekeningen, voor deze instellingen.`
      : `Het aandeel van ${kansCount(s)} doorrekeningen waarin een gemeente gekozen wordt, als het programma per doorrekening opnieuw wordt opgelost.`;
    answered("klaar");
    status(`Klaar in ${Math.round(performance.now() - t0)} ms (${1 + pr.rows.length + sw.size} keer opgelost).`);
  }

  function kansCount(s) { return s.budget !== null ? Math.min(D.kans_draws.n, D.min_resolve) : D.kans_draws.n; }
  let kansJ = null, kansRho = null;
  async function computeKans() {
    if (!current || !current.base) {
      $("kans-status").textContent = "Er is nu geen selectie om de kans voor te berekenen.";
      return;
    }
    const s = current.s, mine = generation;
    const n = kansCount(s);
    if (!kansJ) {
      kansJ = new Float64Array(bytesOf(D.kans_draws.j).buffer);
      kansRho = new Float64Array(bytesOf(D.kans_draws.rho).buffer);
    }
    const bar = $("kans-voortgang");
    bar.hidden = false; bar.max = n; bar.value = 0;
    $("kans-knop").disabled = true;
    const counts = new Float64Array(M);
    const pr = problem(s, current.nums);
    try {
      for (let d = 0; d < n; d++) {
        const rho = s.region_reach !== null ? s.region_reach : kansRho[d];
        const j = kansJ.subarray(d * M, (d + 1) * M);
        const a = new Float64Array(M), b = new Float64Array(K);
        for (let i = 0; i < M; i++) { a[i] = (1 - rho) * j[i]; b[regionOf[i]] += j[i]; }
        for (let r = 0; r < K; r++) b[r] *= rho;
        for (const i of (await solveWith(pr, a, b)).chosen) counts[i]++;
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
    if (current && current.pr && settingsKey(current.s) === settingsKey(s)) {
      current.reasons = reasons(s, current.nums, current.base, current.pr, current.sw, chances);
      table(current.base, current.nums, current.pr, current.sw, current.reasons, chances);
      if (infoIndex !== null) showInfo(infoIndex);
      $("kans-uitleg").textContent = `Kans gekozen over ${n} opnieuw opgeloste doorrekeningen, voor deze instellingen.`;
      answered("klaar");
    } else {
      await update();
    }
    $("kans-status").textContent = `klaar: ${n} doorrekeningen`;
  }

  window.addEventListener("beforeprint", () => { $("bronnen").open = true; });
  function wire() {
    const form = $("instellingen");
    let timer = null;
    const later = () => { clearTimeout(timer); timer = setTimeout(update, 250); };
    form.addEventListener("input", (e) => {
      if (e.target.id === "zoek") return;
      // a number is solved when it is entered (change: Enter or leaving the field), not for
      // every digit typed; the slider while it moves
      if (e.target.type === "number") { if (e.target.id === "region_reach") $("region_reach-schuif").value = e.target.value; return; }
      if (e.target.id === "region_reach-schuif") { $("region_reach").value = e.target.value; }
      if (e.target.id === "region_reach") { $("region_reach-schuif").value = e.target.value; }
      if (e.target.id && e.target.id.endsWith("-aan")) { $(e.target.id.slice(0, -4)).disabled = !e.target.checked; }
      if (e.target.name === "rho") { $("region_reach").disabled = $("region_reach-schuif").disabled = !$("rho-vast").checked; }
      later();
    });
    form.addEventListener("change", (e) => { if (e.target.id !== "zoek") { clearTimeout(timer); update(); } });
    const dl = $("gemeentenamen");
    for (const name of [...G.naam].sort((x, y) => x.localeCompare(y, "nl"))) {
      const o = document.createElement("option"); o.value = name; dl.append(o);
    }
    const found = () => {
      try {
        const code = resolve($("zoek").value);
        $("zoek-melding").textContent = "";
        const i = INDEX.get(code);
        showInfo(i);
        for (const p of pathEls) p.classList.toggle("gezocht", p.dataset.code === code);
        return code;
      } catch (e) {
        $("zoek-melding").textContent = e.message;
        for (const p of pathEls) p.classList.remove("gezocht");
        showInfo(null);
        $("info").textContent = "Klik op een gemeente of zoek er een.";
        return null;
      }
    };
    $("zoek").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); found(); } });
    $("zoek").addEventListener("change", found);
    $("zoek-vast").addEventListener("click", () => { const c = found(); if (c) setForce(c, "include"); });
    $("zoek-uit").addEventListener("click", () => { const c = found(); if (c) setForce(c, "exclude"); });
    $("zoek-vrij").addEventListener("click", () => { const c = found(); if (c) setForce(c, null); });
    $("naar-run").addEventListener("click", () => { state = clean(D.begin); writeControls(state); update(); });
    $("naar-kaart").addEventListener("click", () => { state = clean({}); writeControls(state); update(); });
    $("deel").addEventListener("click", () => {
      let shown;
      try { shown = clean(readControls()); check(shown); } catch (e) {
        $("deel-link").textContent = `Verbeter eerst de instellingen: ${e.message}`;
        return;
      }
      const h = toHash(shown);
      history.replaceState(null, "", h);
      $("deel-link").textContent = location.href;
    });
    $("kopieer").addEventListener("click", async () => {
      const text = $("opdracht").textContent;
      try { await navigator.clipboard.writeText(text); $("opdracht-uitleg").textContent = "Gekopieerd."; } catch (e) {
        const range = document.createRange(); range.selectNodeContents($("opdracht"));
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        $("opdracht-uitleg").textContent = "Geselecteerd: kopieer met Ctrl+C.";
      }
    });
    $("kans-knop").addEventListener("click", computeKans);
    window.addEventListener("hashchange", () => {
      try {
        const s = fromHash(location.hash);
        if (!s) return;
        check(s);
        state = s; writeControls(s); update();
      } catch (e) { notice(`Deze link is niet te lezen: ${e.message} De instellingen zijn niet veranderd.`); }
    });
  }

  async function loadSolver() {
    const text = document.getElementById("highs-wasm").textContent.trim();
    const packed = bytesOf(text);
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
    const wasm = new Uint8Array(await new Response(stream).arrayBuffer());
    // the loader's own fetch of highs.wasm is replaced by the bytes inlined in this page
    solver.module = await WebAssembly.compile(wasm);
    solver.src = document.getElementById("highs-src").textContent;
    solver.ready = solver.start();
    await solver.ready;
  }

  const ready = (async () => {
    drawMap();
    $("rho-kaart").textContent = D.rho.onzeker ? `${nlNum(D.rho.waarde)} (${nlNum(D.rho.laag)}–${nlNum(D.rho.hoog)})` : "niet in deze run (ρ is vast)";
    let start = clean(D.begin), linkError = "";
    try {
      const linked = fromHash(location.hash);
      if (linked) { check(linked); start = linked; }
    } catch (e) { linkError = `Deze link is niet te lezen: ${e.message} De pagina opent met de instellingen van de run.`; }
    state = start;
    if (G.kans.every((x) => isFinite(x))) kansFor.set(settingsKey(clean(D.begin)), G.kans);  // the run's own
    writeControls(state);
    wire();
    try {
      await loadSolver();
    } catch (e) {
      status(`De oplosser kon niet laden: ${e.message}`);
      $("resultaat").dataset.state = "fout";
      throw e;
    }
    $("solver-versie").textContent = `HiGHS ${solver.version}${solver.inPage ? ", in de pagina zelf" : ", in een Web Worker"}`;
    await update();
    if (linkError) notice(linkError);
  })();

  window.verkenner = {
    ready,
    data: D,
    resolve,
    settings: () => JSON.parse(JSON.stringify(state)),
    command: (settings) => command(clean(settings)),
    // the chances last shown (the run's, or a recount), by gemeentecode, and for which settings
    chances: () => {  // for the settings shown, if computed
      const k = kansFor.get(settingsKey(state));
      return k ? Object.fromEntries(G.code.map((c, i) => [c, k[i]])) : null;
    },
    async explain(settings) {  // the whole answer: prices, swaps and reasons, by gemeentecode
      await ready;
      const a = await solveSettings(settings, "hook");
      if (a.infeasible) return { infeasible: a.infeasible };
      const pr = await prices(a.s, a.nums, a.base, noStep, "hook");
      const sw = await swaps(a.s, a.nums, a.base, noStep, "hook");
      const rs = reasons(a.s, a.nums, a.base, pr, sw, null);
      const out = { selected: a.base.chosen.map((i) => G.code[i]).sort(), objective: a.base.objective,
        prices: publicPrices(pr.rows), swaps: {}, reasons: {} };
      for (const [i, w] of sw) out.swaps[G.code[i]] = { ...w };
      for (let i = 0; i < M; i++) out.reasons[G.code[i]] = rs[i];
      return out;
    },
    async solve(settings) {  // a Promise of {selected, objective, prices}
      await ready;
      const a = await solveSettings(settings, "hook");
      if (a.infeasible) return { selected: [], objective: null, prices: {}, infeasible: a.infeasible };
      const pr = await prices(a.s, a.nums, a.base, noStep, "hook");
      return { selected: a.base.chosen.map((i) => G.code[i]).sort(), objective: a.base.objective, prices: publicPrices(pr.rows) };
    },
  };
})();
