// The report's document explorer (zh-en-corpus). Plain script, no libraries, no network:
// the index is embedded in the page (#report-index); a document's data comes from its
// shard file beside report.html (docs/HASH.js calls corpusShard(N, docs)).
// Input text reaches the page only through textContent, never as markup.
"use strict";
(function () {
  const cfg = JSON.parse(document.getElementById("report-index").textContent);
  const idx = cfg.index;
  const F = {};
  idx.fields.forEach(function (name, i) { F[name] = i; });
  const rows = idx.documents;
  const byId = new Map(rows.map(function (r) { return [r[F.id], r]; }));
  const $ = function (id) { return document.getElementById(id); };
  const VIEWS = ["overview", "documents", "results", "doc"];
  if (!cfg.gold) document.body.classList.add("no-gold");

  // ------------------------------------------------------------------ shards
  const shards = new Map();
  const waiting = new Map();
  window.corpusShard = function (n, docs) {
    const done = waiting.get(n);
    if (done) done(docs);
  };
  function loadShard(n) {
    if (!shards.has(n)) {
      shards.set(n, new Promise(function (resolve, reject) {
        waiting.set(n, resolve);
        const script = document.createElement("script");
        script.src = idx.shards[n];
        script.onerror = function () {
          shards.delete(n);
          reject(new Error("cannot load " + idx.shards[n] +
            " (keep the docs/ folder beside report.html)"));
        };
        document.head.appendChild(script);
      }).then(function (docs) {
        return new Map(docs.map(function (d) { return [d.id, d]; }));
      }));
    }
    return shards.get(n);
  }
  function getDoc(id) {
    const row = byId.get(id);
    if (!row) return Promise.resolve(null);
    return loadShard(row[F.shard]).then(function (m) { return m.get(id) || null; });
  }

  // ------------------------------------------------------------------ helpers
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmt(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }
  function href(id) { return "#doc=" + encodeURIComponent(id); }
  function status(text) { $("status").textContent = text || ""; }
  function ids(list) { return "[" + list.join(",") + "]"; }
  function sideText(doc, lang, list) {
    return list.map(function (i) { return doc[lang][i][1]; }).join(lang === "zh" ? "" : " ");
  }
  function hue(cosine) {
    const t = Math.max(0, Math.min(1, (cosine - 0.1) / 0.6));
    return "hsl(" + Math.round(120 * t) + ",70%,42%)";
  }

  // ------------------------------------------------------------------ review decisions
  const decisions = new Map();
  let unsaved = 0;
  function keyOf(docId, zhIds, enIds) {
    return docId + "\u0000" + zhIds.join(",") + ":" + enIds.join(",");
  }
  cfg.applied.forEach(function (d) { decisions.set(keyOf(d.doc_id, d.zh_ids, d.en_ids), d); });
  function showReviewState() {
    $("review-state").textContent = decisions.size + " decision" +
      (decisions.size === 1 ? "" : "s") + (unsaved ? " (" + unsaved + " changes not downloaded)" : "");
  }
  function decide(doc, link, verdict) {
    const key = keyOf(doc.id, link[0], link[1]);
    const old = decisions.get(key);
    if (old && old.verdict === verdict) decisions.delete(key);
    else decisions.set(key, {
      doc_id: doc.id, zh_ids: link[0], en_ids: link[1],
      zh: sideText(doc, "zh", link[0]), en: sideText(doc, "en", link[1]), verdict: verdict,
    });
    unsaved += 1;
    showReviewState();
  }
  function download() {
    const body = JSON.stringify({
      format: cfg.decisions_format, version: 1, signature: cfg.signature,
      decisions: Array.from(decisions.values()),
    }, null, 1) + "\n";
    const url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
    const a = el("a");
    a.href = url;
    a.download = "decisions.json";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    unsaved = 0;
    showReviewState();
  }
  $("download").addEventListener("click", download);
  window.addEventListener("beforeunload", function (event) {
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });

  // ------------------------------------------------------------------ document list
  const COLUMNS = [
    ["id", "document"], ["source", "source"], ["zh", "zh sentences"], ["en", "en sentences"],
    ["links", "links"], ["kept", "kept"], ["rejected", "rejected"], ["reviewed", "reviewed"],
    ["coverage", "coverage"], ["mean_cosine", "mean cosine"],
    ["mean_p_correct", "expected precision"], ["f1", "F1 (exact)"],
  ].filter(function (c) { return cfg.gold || c[0] !== "f1"; });
  const PAGE = 500;
  const list = { key: "coverage", dir: 1, shown: PAGE };
  function sortedRows() {
    const i = F[list.key];
    return rows.slice().sort(function (a, b) {
      const x = a[i], y = b[i];
      if (x === null || y === null) return (x === null) - (y === null);
      const c = typeof x === "string" ? x.localeCompare(y) : x - y;
      return c * list.dir || a[F.id].localeCompare(b[F.id]);
    });
  }
  function renderList() {
    const head = $("doclist").tHead;
    head.textContent = "";
    const tr = head.insertRow();
    COLUMNS.forEach(function (c) {
      const th = el("th", "sortable", c[1]);
      th.dataset.key = c[0];
      th.tabIndex = 0;
      if (c[0] === list.key) th.setAttribute("aria-sort", list.dir > 0 ? "ascending" : "descending");
      th.addEventListener("click", function () {
        if (list.key === c[0]) list.dir = -list.dir;
        else { list.key = c[0]; list.dir = 1; }
        renderList();
      });
      tr.appendChild(th);
    });
    const body = $("doclist").tBodies[0];
    body.textContent = "";
    const sorted = sortedRows();
    const frag = document.createDocumentFragment();
    sorted.slice(0, list.shown).forEach(function (r) {
      const row = el("tr");
      COLUMNS.forEach(function (c) {
        const v = r[F[c[0]]];
        const td = el("td", typeof v === "number" ? "n" : "");
        td.dataset.key = c[0];
        if (c[0] === "id") {
          const a = el("a", "", v);
          a.href = href(v);
          td.appendChild(a);
        } else {
          td.textContent = v === null ? "–" :
            (typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : String(v));
        }
        row.appendChild(td);
      });
      frag.appendChild(row);
    });
    body.appendChild(frag);
    $("doc-count").textContent = rows.length + " documents" +
      (sorted.length > list.shown ? ", the first " + list.shown + " shown" : "") +
      "; click a column to sort (again to reverse).";
    $("more-docs").hidden = sorted.length <= list.shown;
  }
  $("more-docs").addEventListener("click", function () { list.shown += PAGE; renderList(); });

  // ------------------------------------------------------------------ one document
  let current = null;
  let openToken = 0;
  let pendingFocus = null;

  function marks(doc, link) {
    const out = [];
    [["zh", link[0]], ["en", link[1]]].forEach(function (side) {
      const lang = side[0], list = side[1];
      if (!list.length) return;
      const first = list[0], sents = doc[lang];
      const extra = sents[first][2] || {};
      const prev = first > 0 ? sents[first - 1] : null;
      const prevExtra = prev ? (prev[2] || {}) : {};
      if (prev && (extra.section || 0) !== (prevExtra.section || 0)) out.push(["section", "§" + lang]);
      else if (prev && sents[first][0] !== prev[0]) out.push(["para", "¶" + lang]);
      if (extra.start !== undefined && extra.start !== null) {
        out.push(["time", lang + " " + Number(extra.start).toFixed(1) + "s"]);
      }
    });
    return out;
  }

  function textCell(doc, lang, list) {
    const td = el("td", lang);
    td.lang = lang;
    if (!list.length) { td.classList.add("gap"); return td; }
    list.forEach(function (i, n) {
      if (n && lang === "en") td.appendChild(document.createTextNode(" "));
      const s = el("span", "s", doc[lang][i][1]);
      s.title = lang + " sentence " + i + ", paragraph " + doc[lang][i][0];
      if (n && doc[lang][i][0] !== doc[lang][list[n - 1]][0]) s.classList.add("ps");
      td.appendChild(s);
    });
    return td;
  }

  function goldLinksNear(doc, link) {
    const zh = new Set(link[0]), en = new Set(link[1]);
    return doc.gold.filter(function (g) {
      return g[0].some(function (i) { return zh.has(i); }) || g[1].some(function (j) { return en.has(j); });
    });
  }

  function verdictText(link) {
    const reason = link[4], review = link[5], overruled = link[6];
    if (reason === null) return review === "right" ? (overruled ? "kept: re-admitted by review (was " +
      overruled + ")" : "kept: marked right") : "kept";
    return reason === "review" ? "rejected: marked wrong by review" : "rejected: " + reason;
  }

  function reviewCell(doc, link, tr) {
    const td = el("td", "review");
    if (!link[0].length || !link[1].length) return td;
    const filtered = (link[4] !== null && link[4] !== "review") || link[6] !== null;
    const buttons = [["wrong", "✗ wrong"], ["right", filtered ? "re-admit" : "✓ right"]];
    function paint() {
      const d = decisions.get(keyOf(doc.id, link[0], link[1]));
      tr.classList.toggle("decided-wrong", !!d && d.verdict === "wrong");
      tr.classList.toggle("decided-right", !!d && d.verdict === "right");
      td.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(!!d && d.verdict === b.dataset.verdict));
      });
    }
    buttons.forEach(function (b) {
      const button = el("button", "decide", b[1]);
      button.type = "button";
      button.dataset.verdict = b[0];
      button.addEventListener("click", function () { decide(doc, link, b[0]); paint(); });
      td.appendChild(button);
    });
    paint();
    return td;
  }

  function goldCell(doc, link) {
    const td = el("td", "gold gold-col");
    const verdict = link[7];
    if (verdict === null || !doc.gold) return td;
    td.classList.add(verdict);
    td.appendChild(el("span", "g-mark", verdict === "right" ? "✓ right" :
      (verdict === "partly" ? "≈ partly" : "✗ wrong")));
    if (verdict !== "right") {
      goldLinksNear(doc, link).forEach(function (g) {
        const div = el("div", "gold-link");
        div.appendChild(el("span", "g-ids", "gold " + ids(g[0]) + ":" + ids(g[1])));
        div.appendChild(el("span", "g-zh", sideText(doc, "zh", g[0])));
        div.appendChild(el("span", "g-en", sideText(doc, "en", g[1])));
        td.appendChild(div);
      });
    }
    return td;
  }

  function linkRow(doc, link, k) {
    const tr = el("tr", "link");
    tr.id = "link-" + k;
    tr.dataset.k = k;
    tr.dataset.type = link[0].length + "-" + link[1].length;
    tr.dataset.zh = link[0].join(",");
    tr.dataset.en = link[1].join(",");
    tr.dataset.reason = link[4] === null ? "" : link[4];
    tr.classList.add(link[4] === null ? "kept" : "rejected");
    if (!link[0].length || !link[1].length) tr.classList.add("null");
    tr.appendChild(el("td", "n", k + 1));
    const markCell = el("td", "mark");
    marks(doc, link).forEach(function (m) {
      markCell.appendChild(el("span", "m-" + m[0], m[1]));
      tr.classList.add(m[0]);
    });
    tr.appendChild(markCell);
    tr.appendChild(textCell(doc, "zh", link[0]));
    tr.appendChild(textCell(doc, "en", link[1]));
    tr.appendChild(el("td", "type", tr.dataset.type));
    const score = el("td", "score");
    if (link[2] !== null) {
      const bar = el("div", "bar");
      const fill = el("span");
      fill.style.width = Math.max(0, Math.min(1, link[2])) * 100 + "%";
      fill.style.background = hue(link[2]);
      bar.appendChild(fill);
      score.appendChild(bar);
      score.appendChild(el("span", "cos", fmt(link[2], 3)));
      if (link[3] !== null) score.appendChild(el("span", "margin", " m " + fmt(link[3], 2)));
      if (link[8] != null) score.appendChild(el("span", "p-correct", " p " + fmt(link[8], 2)));
    }
    tr.appendChild(score);
    tr.appendChild(el("td", "verdict", verdictText(link)));
    tr.appendChild(goldCell(doc, link));
    tr.appendChild(reviewCell(doc, link, tr));
    return tr;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (a) { node.setAttribute(a, attrs[a]); });
    return node;
  }

  function pathPlot(doc) {
    const n = Math.max(doc.zh.length, 1), m = Math.max(doc.en.length, 1);
    const box = $("plot-box");
    box.textContent = "";
    const plot = svg("svg", {
      id: "path-plot", viewBox: "0 0 " + n + " " + m, preserveAspectRatio: "none",
      role: "img", "aria-label": "alignment path: zh sentence (across) by en sentence (down)",
    });
    plot.appendChild(svg("rect", { x: 0, y: 0, width: n, height: m, class: "frame" }));
    (doc.gold || []).forEach(function (g) {
      if (!g[0].length || !g[1].length) return;
      plot.appendChild(svg("line", {
        x1: g[0][0], y1: g[1][0], x2: g[0][g[0].length - 1] + 1, y2: g[1][g[1].length - 1] + 1,
        class: "gold-path",
      }));
    });
    let zhAt = 0, enAt = 0;
    doc.links.forEach(function (link, k) {
      const x1 = link[0].length ? link[0][0] : zhAt, y1 = link[1].length ? link[1][0] : enAt;
      const x2 = link[0].length ? link[0][link[0].length - 1] + 1 : x1;
      const y2 = link[1].length ? link[1][link[1].length - 1] + 1 : y1;
      zhAt = x2;
      enAt = y2;
      const line = svg("line", {
        x1: x1, y1: y1, x2: x2, y2: y2,
        class: "path " + (link[4] === null ? "kept" : "rejected") + (link[2] === null ? " null" : ""),
        stroke: link[2] === null ? "#999" : hue(link[2]),
      });
      line.dataset.k = k;
      const title = svg("title", {});
      title.textContent = "link " + (k + 1) + " " + ids(link[0]) + ":" + ids(link[1]) +
        (link[2] === null ? "" : " cosine " + fmt(link[2], 3)) + " " + verdictText(link);
      line.appendChild(title);
      line.addEventListener("click", function () { focusLink(k); });
      plot.appendChild(line);
    });
    box.appendChild(plot);
    box.appendChild(el("p", "caption", "Path: zh sentences across (" + doc.zh.length +
      "), en sentences down (" + doc.en.length + "); colour: cosine (red low, green high); " +
      "dashed: rejected; grey: a sentence with no link" + (doc.gold ? "; black: gold" : "") +
      ". Click a segment to go to its row."));
  }

  function focusLink(k) {
    const old = document.querySelector("#links tr.focus");
    if (old) old.classList.remove("focus");
    const tr = $("link-" + k);
    if (!tr) return;
    tr.hidden = false;
    tr.classList.add("focus");
    tr.scrollIntoView({ block: "center" });
  }

  function renderDoc(doc, row) {
    current = { doc: doc, weak: [], at: -1 };
    $("doc-title").textContent = doc.id;
    const parts = [row[F.source], "zh " + row[F.zh] + " / en " + row[F.en] + " sentences",
      row[F.links] + " links", row[F.kept] + " kept", row[F.rejected] + " rejected",
      "coverage " + fmt(row[F.coverage], 3), "mean cosine " + fmt(row[F.mean_cosine], 3)];
    if (cfg.gold) parts.push(row[F.f1] === null ? "no gold" : "F1 (exact) " + fmt(row[F.f1], 3));
    $("doc-summary").textContent = parts.join(" · ");
    pathPlot(doc);
    const body = $("links").tBodies[0];
    body.textContent = "";
    const frag = document.createDocumentFragment();
    doc.links.forEach(function (link, k) { frag.appendChild(linkRow(doc, link, k)); });
    body.appendChild(frag);
    // weakest first: by p_correct where the build has it, else by cosine
    current.weak = doc.links.map(function (l, k) { return [l[8] != null ? l[8] : l[2], k]; })
      .filter(function (x) { return x[0] !== null; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
      .map(function (x) { return x[1]; });
    $("weak-state").textContent = current.weak.length ? "" : "no scored links";
    $("next-weak").disabled = !current.weak.length;
    $("only-rejected").checked = false;
    $("links").classList.remove("only-rejected");
  }

  $("next-weak").addEventListener("click", function () {
    if (!current || !current.weak.length) return;
    current.at = (current.at + 1) % current.weak.length;
    const k = current.weak[current.at];
    focusLink(k);
    $("weak-state").textContent = "weakest link " + (current.at + 1) + " of " +
      current.weak.length + ": #" + (k + 1) + ", cosine " + fmt(current.doc.links[k][2], 3) +
      (current.doc.links[k][8] != null ? ", p_correct " + fmt(current.doc.links[k][8], 2) : "");
  });
  $("only-rejected").addEventListener("change", function (e) {
    $("links").classList.toggle("only-rejected", e.target.checked);
  });

  function openDoc(id) {
    show("doc");
    const token = ++openToken;
    const row = byId.get(id);
    if (!row) {
      current = null;
      $("doc-title").textContent = "No document " + JSON.stringify(id) + " in this build";
      $("doc-summary").textContent = "";
      $("plot-box").textContent = "";
      $("links").tBodies[0].textContent = "";
      return;
    }
    status("loading " + id + " …");
    getDoc(id).then(function (doc) {
      if (token !== openToken) return;
      status("");
      renderDoc(doc, row);
      if (pendingFocus !== null) { focusLink(pendingFocus); pendingFocus = null; }
      else window.scrollTo(0, 0);
      document.body.dataset.doc = id;
    }, function (err) { status(err.message); });
  }

  // ------------------------------------------------------------------ search
  let searchToken = 0;
  const MAX_HITS = 500;
  function highlight(parent, text, q) {
    const at = text.toLowerCase().indexOf(q);
    if (at < 0) { parent.appendChild(document.createTextNode(text)); return; }
    parent.appendChild(document.createTextNode(text.slice(0, at)));
    parent.appendChild(el("mark", "", text.slice(at, at + q.length)));
    parent.appendChild(document.createTextNode(text.slice(at + q.length)));
  }
  async function search(raw) {
    const q = raw.trim().toLowerCase();
    if (!q) return;
    const token = ++searchToken;
    location.hash = "#search";
    const hits = $("hits");
    hits.textContent = "";
    let found = 0;
    for (let n = 0; n < idx.shards.length && found < MAX_HITS; n++) {
      $("results-state").textContent = "searching " + (n + 1) + " of " + idx.shards.length + " files …";
      let docs;
      try { docs = await loadShard(n); } catch (err) { status(err.message); return; }
      if (token !== searchToken) return;
      for (const doc of docs.values()) {
        doc.links.forEach(function (link, k) {
          if (found >= MAX_HITS) return;
          const zh = sideText(doc, "zh", link[0]), en = sideText(doc, "en", link[1]);
          if (zh.toLowerCase().indexOf(q) < 0 && en.toLowerCase().indexOf(q) < 0) return;
          found += 1;
          const li = el("li", "hit");
          const a = el("a", "", doc.id + " · link " + (k + 1));
          a.href = href(doc.id);
          a.addEventListener("click", function () { pendingFocus = k; });
          li.appendChild(a);
          const zhSpan = el("span", "zh"), enSpan = el("span", "en");
          highlight(zhSpan, zh, q);
          highlight(enSpan, en, q);
          li.appendChild(zhSpan);
          li.appendChild(enSpan);
          hits.appendChild(li);
        });
      }
    }
    $("results-state").textContent = found + (found >= MAX_HITS ? "+" : "") + " links with " +
      JSON.stringify(raw.trim()) + " on either side";
  }
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    search($("search").value);
  });

  // ------------------------------------------------------------------ routing
  function show(name) {
    VIEWS.forEach(function (v) { $(v).hidden = v !== name; });
    document.body.dataset.view = name;
  }
  function route() {
    const hash = location.hash;
    if (hash.indexOf("#doc=") === 0) {
      let id = hash.slice(5);
      try { id = decodeURIComponent(id); } catch (e) { /* a raw id with a stray % */ }
      openDoc(id);
    } else if (hash === "#documents") {
      show("documents");
      renderList();
    } else if (hash === "#search") {
      show("results");
    } else {
      show("overview");
    }
  }
  window.addEventListener("hashchange", route);
  showReviewState();
  route();
  document.body.dataset.ready = "1";
})();
