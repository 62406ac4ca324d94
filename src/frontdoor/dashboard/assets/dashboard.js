// hma-lab dashboard: the timeline from server-sent events, one click (or Enter) opens an
// exchange, forms post to /dashboard/do/ACTION. Everything from the lab goes in with
// textContent; HTML comes only from the dashboard's own fragment routes.
"use strict";
(function () {
  const rows = document.getElementById("rows");
  const live = document.getElementById("live");
  const clock = document.getElementById("clock");
  const offset = document.getElementById("offset");
  const result = document.getElementById("result");
  const failuresOnly = document.getElementById("failures");
  let selected = null;
  let stateVersion = null;

  function failed(r) {
    return r.status === 0 || r.status >= 400 || r.diagnostics !== "" || r.aadsts !== "";
  }

  function cell(tr, text, cls, title) {
    const td = document.createElement("td");
    if (cls === "path" || cls === "to" || cls === "diag") {
      // Long values are cut with an ellipsis (whole on hover) so every column stays in view.
      const clip = document.createElement("span");
      clip.className = "clip";
      clip.textContent = text;
      td.appendChild(clip);
    } else {
      td.textContent = text;
    }
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
  }

  function addRow(r) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.id = r.id;
    tr.setAttribute("aria-selected", "false");
    if (failed(r)) tr.classList.add("failed");
    cell(tr, String(r.id));
    cell(tr, r.lab_time.slice(11, 23), "time", r.lab_time);
    cell(tr, r.method);
    cell(tr, r.host);
    cell(tr, r.path, "path", r.path);
    cell(tr, r.status === 0 ? "—" : String(r.status), "st", r.error || "");
    const to = r.service + (r.devices.length ? " via " + r.devices.join(", ") : "");
    cell(tr, to, "to", to);
    cell(tr, r.auth);
    cell(tr, r.diagnostics.split(";")[0], "diag", r.diagnostics);
    cell(tr, r.aadsts, "aadsts");
    tr.hidden = failuresOnly.checked && !failed(r);
    rows.appendChild(tr);
    const scroller = rows.closest(".scroll");
    scroller.scrollTop = scroller.scrollHeight;
  }

  async function open(tr) {
    if (selected) selected.setAttribute("aria-selected", "false");
    selected = tr;
    tr.setAttribute("aria-selected", "true");
    const body = document.getElementById("detail-body");
    const resp = await fetch("/dashboard/entry/" + tr.dataset.id, { credentials: "same-origin" });
    body.innerHTML = await resp.text();
    document.getElementById("detail").focus({ preventScroll: true });
    document.getElementById("detail").scrollIntoView({ block: "nearest" });
  }

  rows.addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (tr) open(tr);
  });
  rows.addEventListener("keydown", (e) => {
    const tr = e.target.closest("tr");
    if (!tr) return;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(tr); }
    if (e.key === "ArrowDown" && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    if (e.key === "ArrowUp" && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });
  failuresOnly.addEventListener("change", () => {
    for (const tr of rows.children) {
      tr.hidden = failuresOnly.checked && !tr.classList.contains("failed");
    }
  });

  async function refresh(id, url) {
    const el = document.getElementById(id);
    const resp = await fetch(url, { credentials: "same-origin" });
    if (resp.ok) el.innerHTML = await resp.text();
    return el;
  }

  async function refreshExercise() {
    const el = await refresh("exercise-body", "/dashboard/exercise");
    document.getElementById("exercise").hidden = el.innerHTML.trim() === "";
  }

  function showClock(c) {
    clock.textContent = c.now.replace("T", " ").replace("Z", " UTC");
    clock.dateTime = c.now;
    offset.textContent = c.offset_secs ? "(moved " + c.offset_secs + " s)" : "";
  }

  const events = new EventSource("/dashboard/events");
  events.addEventListener("open", () => { live.textContent = "live"; });
  events.addEventListener("error", () => { live.textContent = "reconnecting…"; });
  events.addEventListener("entry", (e) => addRow(JSON.parse(e.data)));
  events.addEventListener("clock", (e) => showClock(JSON.parse(e.data)));
  events.addEventListener("state", (e) => {
    const v = JSON.parse(e.data).version;
    if (stateVersion !== null && v !== stateVersion) refresh("state-body", "/dashboard/state");
    stateVersion = v;
  });

  document.addEventListener("submit", async (e) => {
    const f = e.target.closest("form[data-action]");
    if (!f) return;
    e.preventDefault();
    const data = new URLSearchParams(new FormData(f));
    if (e.submitter && e.submitter.name) data.set(e.submitter.name, e.submitter.value);
    const target = f.dataset.target ? document.getElementById(f.dataset.target) : null;
    const out = target || result;
    out.classList.remove("error");
    out.textContent = "…";
    const resp = await fetch("/dashboard/do/" + f.dataset.action, {
      method: "POST", credentials: "same-origin",
      headers: { "X-HMA-Dashboard": "1", "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString(),
    });
    let v;
    try { v = await resp.json(); } catch (_) { v = { ok: false, error: "HTTP " + resp.status }; }
    if (v.html !== undefined) out.innerHTML = v.html;
    else out.textContent = v.ok ? v.output : v.error;
    if (!v.ok) out.classList.add("error");
    if (v.clock) showClock(v.clock);
    refresh("state-body", "/dashboard/state");
    if (f.dataset.action.startsWith("exercise")) refreshExercise().catch(() => {});
  });

  refreshExercise().catch(() => {});
})();
