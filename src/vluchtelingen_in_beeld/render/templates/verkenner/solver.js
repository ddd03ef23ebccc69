// The solver host: HiGHS (WebAssembly) in a Web Worker, so the page stays responsive while it
// solves and a newer change stops a solve at once; in the page itself when a browser refuses a
// worker. makeHost is the worker's whole code: it loads highs.js from its source text and the
// compiled wasm, and answers {id, data, options} with {id, status, x, dual}.
VIB.solver = (() => {
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
          if (m.start) model.setSolution({ colValue: m.start });  // a first incumbent
          const run = model.run();
          const st = highs.constants.modelStatus;
          const limit = [st.solutionLimit, st.iterationLimit].filter((x) => x !== undefined);
          const status = run.modelStatus === st.optimal ? "optimal" : run.modelStatus === st.infeasible
            ? "infeasible" : limit.includes(run.modelStatus) ? "node_limit" : `status ${run.modelStatus}`;
          let x = null, dual = null;
          if (status === "optimal") {
            const sol = model.getSolution();
            x = sol.colValue;
            dual = sol.colDual;
          }
          post({ id: m.id, status, x, dual });
        } finally {
          model.dispose();
        }
      } catch (err) {
        post({ id: m.id, status: "error", message: String((err && err.message) || err) });
      }
    };
  }

  class Cancelled extends Error {}  // a newer change stopped this computation

  const host = {
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
    run(data, options, owner = "page", start = null) {
      const id = this.next++;
      const message = { id, data, options, start };
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
    async load() {
      const bytes = VIB.bytesOf(document.getElementById("highs-wasm").textContent.trim());
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      const wasm = new Uint8Array(await new Response(stream).arrayBuffer());
      // the loader's own fetch of highs.wasm is replaced by the bytes inlined in this page
      this.module = await WebAssembly.compile(wasm);
      this.src = document.getElementById("highs-src").textContent;
      this.ready = this.start();
      await this.ready;
    },
  };
  return { host, Cancelled };
})();
