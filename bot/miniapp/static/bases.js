// The application's base choice: national bases with a plan for the specialty, searchable by
// name and filtered by city, each with 招收计划数 and 已报名人数; then the chosen base's local
// bases. Each choice is saved into the application's draft; the rest stays in the chat.
(function () {
  "use strict";
  const { t, el, api } = ZP;
  let view = null;
  let main = null;
  const filter = { city: "", search: "" };

  function refuse(error) {
    main.innerHTML = "";
    main.append(el("div", { class: "refusal", id: "refusal" }));
    document.getElementById("refusal").innerHTML = error.message;
  }

  function showError(error) {
    if (error.status === 401 || error.status === 403) { refuse(error); return; }
    const box = document.getElementById("choice-error");
    box.innerHTML = error.message;
    box.hidden = false;
    ZP.toast(error.message, "error");
  }

  async function load(specialty) {
    try {
      view = await api("apply/bases" + (specialty ? `?specialty=${encodeURIComponent(specialty)}` : ""));
    } catch (error) {
      if (view) showError(error); else refuse(error);
      return;
    }
    render();
  }

  const numbers = (b) => t("miniapp.bases.numbers", { planned: b.planned, applied: b.applicants });

  function matches(base) {
    if (filter.city && String(base.city_id) !== filter.city) return false;
    const words = filter.search.trim().toLowerCase();
    return !words || base.name.toLowerCase().includes(words);
  }

  function renderList() {
    const list = document.getElementById("base-list");
    list.innerHTML = "";
    const app = view.application;
    const shown = view.bases.filter(matches);
    for (const base of shown) {
      const chosen = base.id === app.base_id && view.specialty_id === app.specialty_id;
      list.append(el("li", {
        class: chosen ? "chosen" : "", "data-base": base.id, role: "button", tabindex: "0",
        onclick: () => chooseBase(base),
      },
      el("strong", {}, base.name, chosen ? ` · ${t("miniapp.bases.chosen")}` : ""),
      el("span", { class: "numbers" }, `${base.city} · ${numbers(base)}`)));
    }
    document.getElementById("base-none").hidden = shown.length > 0 || !view.specialty_id;
  }

  function renderSites() {
    const box = document.getElementById("sites");
    box.innerHTML = "";
    const app = view.application;
    const base = view.bases.find((b) => b.id === app.base_id);
    if (!base || !view.sites.length) { box.hidden = true; return; }
    box.hidden = false;
    box.append(el("h2", {}, t("miniapp.bases.local", { base: base.name })));
    const list = el("ul", { class: "list", id: "site-list" });
    for (const site of view.sites) {
      const chosen = site.id === app.site_id;
      list.append(el("li", {
        class: chosen ? "chosen" : "", "data-site": site.id, role: "button", tabindex: "0",
        onclick: () => chooseSite(site),
      },
      el("strong", {}, site.name, chosen ? ` · ${t("miniapp.bases.chosen")}` : ""),
      el("span", { class: "numbers" }, t("miniapp.bases.site_numbers", { applied: site.applicants }))));
    }
    box.append(list);
  }

  function renderDone() {
    const app = view.application;
    const box = document.getElementById("done");
    const base = view.bases.find((b) => b.id === app.base_id);
    const site = view.sites.find((s) => s.id === app.site_id);
    box.hidden = !(base && site);
    if (box.hidden) return;
    box.innerHTML = "";
    box.append(el("p", {}, t("miniapp.bases.done", { base: base.name, site: site.name })));
    const tg = ZP.webApp();
    if (tg) box.append(el("button", { type: "button", class: "primary", id: "back-to-chat", onclick: () => tg.close() }, t("miniapp.bases.back_to_chat")));
  }

  function render() {
    main.innerHTML = "";
    const cities = new Map(view.bases.map((b) => [String(b.city_id), b.city]));
    const specialty = el("select", { id: "specialty" },
      el("option", { value: "" }, t("miniapp.profile.choose")),
      view.specialties.map((s) => el("option", { value: String(s.id) }, `${s.code} ${s.name}`)));
    specialty.value = view.specialty_id ? String(view.specialty_id) : "";
    specialty.addEventListener("change", () => { filter.city = ""; load(specialty.value); });
    const city = el("select", { id: "city" },
      el("option", { value: "" }, t("miniapp.bases.all_cities")),
      [...cities].map(([id, name]) => el("option", { value: id }, name)));
    if (!cities.has(filter.city)) filter.city = "";
    city.value = filter.city;
    city.addEventListener("change", () => { filter.city = city.value; renderList(); });
    const search = el("input", { type: "search", id: "search", placeholder: t("miniapp.bases.search"), autocomplete: "off" });
    search.value = filter.search;
    search.addEventListener("input", () => { filter.search = search.value; renderList(); });
    main.append(
      el("p", { class: "hint", id: "batch" }, t("miniapp.bases.batch", { batch: view.application.batch })),
      el("div", { class: "filters" },
        el("label", { class: "field" }, el("span", {}, t("miniapp.bases.specialty")), specialty),
        el("label", { class: "field" }, el("span", {}, t("miniapp.bases.city")), city),
        el("label", { class: "field search" }, search)),
      el("div", { class: "field-error", id: "choice-error", hidden: true, role: "alert" }),
      el("section", { class: "card", id: "done", hidden: true }),
      el("h2", {}, t("miniapp.bases.national")),
      el("p", { class: "hint", id: "base-none", hidden: true }, t("miniapp.bases.none")),
      view.specialty_id ? el("ul", { class: "list", id: "base-list" }) : el("p", { class: "hint" }, t("miniapp.bases.choose_specialty")),
      el("section", { id: "sites", hidden: true }));
    if (view.specialty_id) renderList();
    renderSites();
    renderDone();
  }

  async function chooseBase(base) {
    try {
      view = await api("apply/base", { specialty_id: view.specialty_id, base_id: base.id });
    } catch (error) { showError(error); return; }
    render();
    const sites = document.getElementById("sites");
    if (!sites.hidden) sites.scrollIntoView({ block: "start" });
  }

  async function chooseSite(site) {
    try {
      view = await api("apply/site", { site_id: site.id });
    } catch (error) { showError(error); return; }
    render();
    document.getElementById("done").scrollIntoView({ block: "start" });
  }

  ZP.start(async () => {
    main = document.getElementById("bases");
    ZP.backButton(() => { window.location.href = "./"; });
    await load(new URLSearchParams(window.location.search).get("specialty"));
  });
})();
