// Numbers written the Dutch way, and the one renderer of words: the twins of fmt.py and
// words.py. Every function writes the same characters as its Python twin for the same float
// (halves away from zero, by hand, never by toFixed); the golden cases check it.
VIB.format = (() => {
  const missing = (x) => x === null || x === undefined ||
    Number.isNaN(Number(x)) || (typeof x === "string" && x.trim() === "");
  function whole(x) { return Math.sign(x) * Math.floor(Math.abs(x) + 0.5); }
  function roundSig(x, digits = 2) {
    if (x === 0 || !Number.isFinite(x)) return x;
    const step = Math.pow(10, Math.floor(Math.log10(Math.abs(x))) - digits + 1);
    return Math.sign(x) * Math.floor(Math.abs(x) / step + 0.5) * step;
  }
  function nlDec(x, digits = 1, miss = "onbekend") {
    if (missing(x)) return miss;
    const v = Number(x);
    if (!Number.isFinite(v)) return miss;
    const scale = Math.pow(10, digits);
    const n = Math.floor(Math.abs(v) * scale + 0.5);
    const intPart = Math.floor(n / scale), frac = n - intPart * scale;
    let text = String(intPart).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    if (digits) text += "," + String(frac).padStart(digits, "0");
    return (v < 0 && n ? "-" : "") + text;
  }
  const nlInt = (x, miss = "onbekend") => nlDec(x, 0, miss);
  function nlPct(x, digits = 0, miss = "onbekend") {
    if (missing(x)) return miss;
    return nlDec(Number(x) * 100, digits) + "%";
  }
  const SMALL = 10;
  function nlAbout(x, count = true, miss = "onbekend") {
    if (missing(x)) return miss;
    let v = Number(x);
    if (count) {
      const c = whole(v);
      if (v !== 0 && Math.abs(c) < SMALL) return `minder dan ${SMALL}`;
      v = c;
    }
    const r = roundSig(v);
    if (r === 0) return "0";
    const digits = count ? 0 : Math.max(0, 1 - Math.floor(Math.log10(Math.abs(r))));
    return nlDec(r, digits);
  }
  function isSmall(x) { return missing(x) || Math.abs(whole(Number(x))) < SMALL; }
  function nlAboutRange(lo, hi) {
    if (isSmall(hi)) return `minder dan ${SMALL}`;
    if (isSmall(lo)) return `tot ${nlAbout(hi)}`;
    return `${nlAbout(lo)}–${nlAbout(hi)}`;
  }
  function nlAboutBetween(lo, hi) {
    if (isSmall(hi)) return `minder dan ${SMALL}`;
    if (isSmall(lo)) return `hooguit ${nlAbout(hi)}`;
    return `tussen ${nlAbout(lo)} en ${nlAbout(hi)}`;
  }
  function nlAboutDiff(x, ...of) {
    if (missing(x)) return "onbekend";
    const big = Math.max(...of.filter((v) => !missing(v)).map((v) => Math.abs(Number(v))), Math.abs(Number(x)));
    if (big === 0) return "0";
    const unit = Math.pow(10, Math.floor(Math.log10(big)) - 2 + 1);
    const r = whole(Number(x) / unit) * unit;
    return unit >= 1 ? nlInt(r) : nlDec(r, Math.max(0, -Math.floor(Math.log10(unit))));
  }
  const nlAboutEur = (x, miss = "onbekend") => (missing(x) ? miss : "€ " + nlAbout(x, false));
  function nlShare(x, miss = "onbekend") {
    if (missing(x)) return miss;
    const v = Math.abs(Number(x));
    return v > 0 && v < 0.005 ? "minder dan 1%" : nlPct(x);
  }
  function nlList(items) {
    const names = Array.from(items || [], String);
    return names.length > 1 ? names.slice(0, -1).join(", ") + " en " + names[names.length - 1]
      : names.join("");
  }
  function nlProb(x, miss = "onbekend") {
    if (missing(x)) return miss;
    const v = Number(x);
    return v < 0.01 ? "minder dan 1%" : v > 0.99 ? "meer dan 99%" : nlPct(v);
  }
  function nlNum(x) {  // a parameter as written: 0.1 -> "0,10", 2500 -> "2.500" (fmt.nl_num)
    if (missing(x)) return "onbekend";
    const v = Number(x);
    if (!Number.isFinite(v)) return "onbekend";
    if (v === Math.trunc(v)) return nlInt(v);
    if (Math.abs(v) < 1) {
      const [head, frac] = nlDec(v, 3 - Math.floor(Math.log10(Math.abs(v)))).split(",");
      return `${head},${frac.replace(/0+$/, "").padEnd(2, "0")}`;
    }
    return nlDec(v, 3).replace(/0+$/, "").replace(/,$/, "");
  }

  // --- the one renderer of words: phrases.j2 with these filters (words.FILTERS) ----------
  const FILTERS = {
    about: (x) => nlAbout(x),
    about_dec: (x) => nlAbout(x, false),
    share: (x) => nlShare(x),
    pct: (x) => nlPct(x),
    prob: (x) => nlProb(x),
    list: (xs) => nlList(xs),
    eur: (x) => nlAboutEur(x),
    whole: (x) => nlInt(x),
    num: (x) => nlNum(x),
    between: (lo, hi) => nlAboutBetween(lo, hi),
    range: (lo, hi) => nlAboutRange(lo, hi),
    diff: (x, ...of) => nlAboutDiff(x, ...of),
    small: (x) => isSmall(x),
    dec2: (x) => nlDec(x, 2),
    pcts: (xs) => nlList(Array.from(xs || [], (x) => nlPct(x))),
  };
  let phrases = null;
  function macros() {
    if (phrases) return phrases;
    const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
    for (const [name, fn] of Object.entries(FILTERS)) env.addFilter(name, fn);
    const source = document.getElementById("phrases-src").textContent;
    const template = new nunjucks.Template(source, env, "phrases.j2", true);
    template.getExported((err, exported) => { if (err) throw err; phrases = exported; });
    return phrases;
  }
  // the Dutch of a macro of phrases.j2 for these facts, on one line (words.say)
  function say(macro, ...facts) {
    const fn = macros()[macro];
    if (!fn) throw new Error(`Geen zin "${macro}" in phrases.j2.`);
    return String(fn(...facts)).replace(/[ \t\r\n]+/g, " ").trim();
  }
  return { whole, roundSig, nlDec, nlInt, nlPct, nlAbout, isSmall, nlAboutRange, nlAboutBetween,
    nlAboutDiff, nlAboutEur, nlShare, nlList, nlProb, nlNum, FILTERS, say };
})();
