// The staff workbench: the queues as tables (filter, sort and page on the server), their
// actions with a confirmation first, the ≤ 20 selection for sending results, the Excel
// export of the filtered list, and the numbers. Every text comes from the server.
"use strict";

(() => {
  const API = "staff";
  const $ = (id) => document.getElementById(id);
  let meta = null;
  let T = {};
  const state = { view: null, filter: {}, order: "", page: 0, selected: [] };

  // --- texts and messages -----------------------------------------------------------------

  function t(key, params) {
    let text = T[key] !== undefined ? T[key] : key;
    for (const [name, value] of Object.entries(params || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  let toastTimer = null;
  function toast(text, isError) {
    const box = $("staff-toast");
    box.textContent = text;
    box.className = isError ? "toast error" : "toast ok";
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, isError ? 6000 : 3500);
  }

  function textOf(html) {
    // A refusal's message is Telegram HTML with escaped parameters: shown as its text.
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent;
  }

  async function download(path) {
    const response = await fetch("/app/api/" + API + "/" + path, {
      headers: { Authorization: "tma " + ZP.initData() },
    });
    if (!response.ok) {
      let payload = null;
      try { payload = await response.json(); } catch (e) { payload = null; }
      throw new ZP.ApiError(response.status, payload);
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    return {
      blob: await response.blob(),
      name: match ? match[1] : "export.xlsx",
      count: response.headers.get("X-Row-Count") || "",
    };
  }

  async function call(method, path, body, blob) {
    // ZP.api adds the init data; a refusal comes back as an error with the chat's text.
    try {
      if (blob) return await download(path);
      return await ZP.api(API + "/" + path, method === "POST" ? body : undefined, method);
    } catch (err) {
      toast(textOf(err.message) || t("miniapp_staff.offline"), true);
      throw err;
    }
  }

  // --- dialogs ------------------------------------------------------------------------------

  function ask(text, options) {
    // A confirmation before an irreversible action; resolves with the form's values or null.
    const opts = options || {};
    const tg = ZP.webApp();
    if (!opts.reason && !opts.years && tg && tg.showConfirm && tg.platform !== "unknown") {
      // Inside Telegram: its own confirmation popup.
      return new Promise((resolve) => tg.showConfirm(text, (ok) => resolve(ok ? {} : null)));
    }
    const dialog = $("dialog");
    $("dialog-text").textContent = text;
    $("dialog-reason").hidden = !opts.reason;
    $("dialog-reason").value = "";
    $("dialog-reason").placeholder = t("miniapp_staff.reason");
    $("dialog-years").hidden = !opts.years;
    if (opts.years) {
      $("years-n").value = String(opts.years.duration || 3);
      $("years-start").value = opts.years.start || "";
      $("years-end").value = opts.years.end || "";
    }
    $("dialog-ok").textContent = t("miniapp_staff.ok");
    $("dialog-cancel").textContent = t("miniapp_staff.cancel");
    return new Promise((resolve) => {
      dialog.onclose = () => {
        if (dialog.returnValue !== "ok") return resolve(null);
        resolve({
          reason: $("dialog-reason").value,
          years: $("years-n").value,
          start: $("years-start").value,
          end: $("years-end").value,
        });
      };
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  // --- the queues -----------------------------------------------------------------------------

  function viewOf(id) { return meta.views.find((v) => v.id === id); }

  function fillSelect(select, allLabel, items) {
    select.textContent = "";
    const all = document.createElement("option");
    all.value = "";
    all.textContent = allLabel;
    select.append(all);
    for (const item of items) {
      const option = document.createElement("option");
      option.value = String(item.id);
      option.textContent = item.name || item.label;
      select.append(option);
    }
  }

  function query(extra) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...state.filter, o: state.order, ...extra })) {
      if (value !== "" && value !== null && value !== undefined) params.set(key, value);
    }
    return params.toString();
  }

  function openView(id) {
    state.view = id;
    state.page = 0;
    state.order = "";
    state.filter = {};
    for (const button of $("tabs").children) {
      button.setAttribute("aria-selected", String(button.dataset.view === id));
    }
    const isStats = id === "stats";
    $("queue").hidden = isStats;
    $("numbers").hidden = !isStats;
    if (isStats) return loadStats();
    const view = viewOf(id);
    $("hint").textContent = view.hint;
    $("filters").reset();
    fillSelect($("f-extra"), t("staff.list.all"), view.extras);
    $("f-extra").hidden = view.extras.length === 0;
    $("selection").hidden = !view.select;
    $("confirm-all-bar").hidden = id !== "cnf";
    return loadList();
  }

  async function loadList() {
    const view = viewOf(state.view);
    const data = await call("GET", "list/" + view.id + "?" + query({ page: state.page }));
    state.page = data.page;
    renderHead(view);
    renderRows(view, data.rows);
    $("empty").hidden = data.rows.length > 0;
    $("empty").textContent = t("staff.list.empty");
    $("page-line").textContent = data.line;
    $("prev").disabled = data.page <= 0;
    $("next").disabled = data.page >= data.pages - 1;
    renderSelection();
  }

  function renderHead(view) {
    const head = $("table").tHead;
    head.textContent = "";
    const row = head.insertRow();
    if (view.select) row.append(document.createElement("th"));
    for (const column of view.columns) {
      const th = document.createElement("th");
      th.dataset.col = column.id;
      let label = column.label;
      if (state.order === column.id) label += " ▲";
      if (state.order === "-" + column.id) label += " ▼";
      th.textContent = label;
      if (column.sort) {
        th.className = "sortable";
        th.title = t("miniapp_staff.sort_hint");
        th.onclick = () => {
          state.order = state.order === column.id ? "-" + column.id : column.id;
          state.page = 0;
          loadList();
        };
      }
      row.append(th);
    }
  }

  function renderRows(view, rows) {
    const body = $("table").tBodies[0];
    body.textContent = "";
    for (const item of rows) {
      const tr = body.insertRow();
      tr.dataset.id = String(item.id);
      if (view.select) {
        const cell = tr.insertCell();
        if (item.selectable || state.selected.includes(item.id)) {
          const box = document.createElement("input");
          box.type = "checkbox";
          box.className = "pick";
          box.checked = state.selected.includes(item.id);
          box.setAttribute("aria-label", "#" + item.id);
          box.onchange = () => toggle(item.id, box);
          cell.append(box);
        }
        tr.classList.toggle("chosen", state.selected.includes(item.id));
      }
      for (const column of view.columns) {
        const cell = tr.insertCell();
        cell.dataset.col = column.id;
        if (column.id === "acts") {
          cell.className = "acts";
          for (const action of item.acts) {
            const button = document.createElement("button");
            button.type = "button";
            button.textContent = action.label;
            button.dataset.act = action.id;
            button.onclick = () => perform(action.id, item);
            cell.append(button);
          }
          if (!item.acts.length) cell.textContent = t("miniapp_staff.no_actions");
        } else if (column.id === "status") {
          cell.textContent = item.status_label;
        } else {
          cell.textContent = item[column.id] === undefined ? "" : String(item[column.id]);
        }
        if (column.id === "id") cell.className = "num";
      }
    }
  }

  // --- the selection for 发送录取结果 -----------------------------------------------------------

  function renderSelection() {
    if (!viewOf(state.view) || !viewOf(state.view).select) return;
    const n = state.selected.length;
    $("sel-line").textContent = t("staff.list.selected", { n, max: meta.max_send });
    $("sel-send").textContent = t("staff.list.send_selected", { n, max: meta.max_send });
    $("sel-send").disabled = n === 0;
    $("sel-clear").textContent = t("staff.list.clear_selection");
    $("sel-clear").disabled = n === 0;
  }

  async function toggle(id, box) {
    try {
      const data = await call("POST", "select", { selected: state.selected, id });
      state.selected = data.selected;
    } catch (err) {
      box.checked = state.selected.includes(id);
      return;
    } finally {
      renderSelection();
    }
    box.closest("tr").classList.toggle("chosen", state.selected.includes(id));
  }

  async function sendSelected() {
    const n = state.selected.length;
    if (!n || !(await ask(t("miniapp_staff.ask.send_n", { n })))) return;
    const data = await call("POST", "send", { ids: state.selected });
    state.selected = [];
    toast(data.note);
    await loadList();
  }

  // --- one record's action ------------------------------------------------------------------

  async function perform(act, item) {
    const params = { id: item.id, name: item.name };
    const body = { act, id: item.id };
    if (act === "years") {
      const answer = await ask(t("miniapp_staff.ask.years", params), {
        years: { duration: item.duration, start: item.start, end: item.end },
      });
      if (!answer) return;
      Object.assign(body, { years: answer.years, start: answer.start, end: answer.end });
    } else {
      const answer = await ask(t("miniapp_staff.ask." + act, params), { reason: act === "rej" });
      if (!answer) return;
      if (act === "rej") body.reason = answer.reason;
    }
    try {
      const data = await call("POST", "act", body);
      toast(data.note);
    } finally {
      await loadList();
    }
  }

  async function confirmAll() {
    const filters = { ...state.filter };
    const probe = await call("POST", "confirm_all", { filters, count_only: true });
    if (!probe.n) return toast(probe.note);
    if (!(await ask(probe.ask))) return;
    const data = await call("POST", "confirm_all", { filters });
    toast(data.note);
    await loadList();
  }

  async function exportList() {
    const view = viewOf(state.view);
    const file = await call("GET", "export/" + view.id + "?" + query({}), null, true);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file.blob);
    link.download = file.name;
    document.body.append(link);
    link.click();
    link.remove();
    toast(t("miniapp_staff.exported", { n: file.count, file: file.name }));
  }

  // --- the numbers --------------------------------------------------------------------------

  async function loadStats() {
    const batch = $("stats-batch").value;
    const data = await call("GET", "stats" + (batch ? "?batch=" + batch : ""));
    if (!data.batch) {
      $("stats-title").textContent = t("staff.list.empty");
      return;
    }
    $("stats-batch").value = String(data.batch.id);
    $("stats-title").textContent = data.batch.name + " · " + meta.scope;
    const table = $("stats-table");
    table.tHead.textContent = "";
    table.tBodies[0].textContent = "";
    table.tFoot.textContent = "";
    const head = table.tHead.insertRow();
    for (const label of [t("miniapp_staff.col.specialty"), ...data.columns.map((c) => c.label)]) {
      const th = document.createElement("th");
      th.textContent = label;
      head.append(th);
    }
    const line = (target, name, values) => {
      const tr = target.insertRow();
      tr.insertCell().textContent = name;
      for (const v of values) {
        const cell = tr.insertCell();
        cell.className = "num";
        cell.textContent = String(v);
      }
    };
    for (const row of data.rows) line(table.tBodies[0], row.specialty, row.values);
    if (!data.rows.length) {
      const empty = table.tBodies[0].insertRow().insertCell();
      empty.colSpan = data.columns.length + 1;
      empty.className = "hint";
      empty.textContent = t("staff.list.empty");
    }
    if (data.rows.length) line(table.tFoot, data.total_label, data.totals);
    drawChart(data);
  }

  function drawChart(data) {
    // Horizontal bars, largest first: one line per specialty stays legible for 36 of them.
    const chart = $("chart");
    chart.textContent = "";
    $("chart-caption").textContent = t("miniapp_staff.stats.chart");
    const col = (id) => data.columns.findIndex((c) => c.id === id);
    const [iPlan, iApp, iAdm, iCnf] = ["planned", "applicants", "admitted", "confirmed"].map(col);
    const rows = [...data.rows].sort(
      (a, b) => b.values[iApp] - a.values[iApp] || b.values[iPlan] - a.values[iPlan],
    );
    const top = Math.max(1, ...rows.map((r) => Math.max(r.values[iApp], r.values[iPlan])));
    const legend = document.createElement("div");
    legend.className = "legend";
    for (const [cls, i] of [["applicants", iApp], ["admitted", iAdm], ["confirmed", iCnf]]) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.className = "bar " + cls;
      swatch.style.position = "static";
      item.append(swatch, data.columns[i].label);
      legend.append(item);
    }
    const plan = document.createElement("span");
    const tickSwatch = document.createElement("i");
    tickSwatch.className = "plan-swatch";
    plan.append(tickSwatch, data.columns[iPlan].label);
    legend.append(plan);
    chart.append(legend);
    for (const row of rows) {
      const v = row.values;
      const wrap = document.createElement("div");
      wrap.className = "bar-row";
      const label = document.createElement("div");
      label.className = "bar-label";
      const name = document.createElement("span");
      name.textContent = row.specialty;
      const numbers = document.createElement("span");
      numbers.textContent = `${v[iApp]} / ${v[iAdm]} / ${v[iCnf]} · ${v[iPlan]}`;
      label.append(name, numbers);
      const track = document.createElement("div");
      track.className = "bar-track";
      for (const [cls, i] of [["applicants", iApp], ["admitted", iAdm], ["confirmed", iCnf]]) {
        const bar = document.createElement("div");
        bar.className = "bar " + cls;
        bar.style.width = (100 * v[i]) / top + "%";
        track.append(bar);
      }
      const tick = document.createElement("div");
      tick.className = "plan-tick";
      tick.style.left = `calc(${(100 * v[iPlan]) / top}% - 1px)`;
      track.append(tick);
      wrap.append(label, track);
      chart.append(wrap);
    }
    chart.setAttribute("aria-label", t("miniapp_staff.stats.chart"));
  }

  // --- start --------------------------------------------------------------------------------

  async function start() {
    meta = await call("GET", "meta");
    T = meta.texts;
    document.documentElement.lang = meta.locale;
    $("title").textContent = t("miniapp_staff.title");
    document.title = t("miniapp_staff.title");
    $("scope").textContent = meta.scope;
    const tabs = $("tabs");
    for (const view of [...meta.views, { id: "stats", title: t("miniapp_staff.stats.title") }]) {
      const button = document.createElement("button");
      button.type = "button";
      button.role = "tab";
      button.dataset.view = view.id;
      button.textContent = view.title;
      button.onclick = () => openView(view.id);
      tabs.append(button);
    }
    fillSelect($("f-batch"), t("staff.list.all_batches"), meta.batches);
    fillSelect($("f-specialty"), t("staff.list.all_specialties"), meta.specialties);
    fillSelect($("stats-batch"), "—", meta.batches);
    $("stats-batch-label").textContent = t("miniapp_staff.stats.pick_batch");
    $("stats-batch").onchange = loadStats;
    $("f-text").placeholder = t("miniapp_staff.search");
    $("f-apply").textContent = t("miniapp_staff.apply_filter");
    $("export").textContent = t("staff.list.export");
    $("prev").textContent = t("common.prev_page");
    $("next").textContent = t("common.next_page");
    $("confirm-all").textContent = t("staff.list.confirm_all");
    $("filters").onsubmit = (event) => {
      event.preventDefault();
      state.filter = {
        b: $("f-batch").value,
        s: $("f-specialty").value,
        x: $("f-extra").value,
        q: $("f-text").value.trim(),
      };
      state.page = 0;
      loadList();
    };
    for (const id of ["f-batch", "f-specialty", "f-extra"]) {
      $(id).onchange = () => $("filters").requestSubmit();
    }
    $("export").onclick = exportList;
    $("prev").onclick = () => { state.page -= 1; loadList(); };
    $("next").onclick = () => { state.page += 1; loadList(); };
    $("sel-send").onclick = sendSelected;
    $("sel-clear").onclick = () => { state.selected = []; loadList(); };
    $("confirm-all").onclick = confirmAll;
    const wanted = new URLSearchParams(location.search).get("view");
    const first = meta.views.find((v) => v.id === wanted) ? wanted : (meta.views[0] || {}).id;
    await openView(first || "stats");
    document.body.dataset.ready = "1";
  }

  ZP.start(start);
})();
