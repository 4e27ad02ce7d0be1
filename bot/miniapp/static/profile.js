// 学员信息维护 as four forms, one per module. Every change is kept as a server-side draft (so
// a closed page loses nothing) and answers with the completeness the profile would have;
// saving a module goes through the same workflow functions as the chat.
(function () {
  "use strict";
  const { t, el, api } = ZP;
  const MODULES = ["basic", "contact", "education", "work"];
  const EDU_FIELDS = ["school", "major", "level", "start_date", "end_date"];
  const EDU_FLAGS = ["is_first", "is_highest", "is_bachelor"];
  const DRAFT_DELAY = 400;
  // Refusals that name no field, and the field they are about.
  const CODE_FIELDS = {
    "field.end_before_start": "end_date",
    "basic.gender_mismatch": "gender",
    "basic.birth_date_mismatch": "birth_date",
    "contact.email_invalid": "email",
    "work.current_has_ended": "end_date",
    "work.current_without_unit": "is_current",
    "edu.first_level": "is_first",
    "edu.bachelor_level": "is_bachelor",
  };

  let data = null; // the server's view: identity, saved, drafts, completeness, choices
  const form = {}; // module -> the values being edited
  const timers = {};
  const inflight = {};
  let main = null;
  let shown = null; // the completeness last shown

  const clone = (value) => JSON.parse(JSON.stringify(value));

  function initialForm(module) {
    if (data.drafts[module]) return clone(data.drafts[module]);
    const values = clone(data.saved[module]);
    if (module === "basic") {
      // What the ID number says, filled in for the trainee to confirm.
      const suggested = data.identity.suggested;
      for (const name of ["gender", "birth_date"]) {
        if (!values[name] && suggested[name]) values[name] = suggested[name];
      }
    }
    return values;
  }

  const isDirty = (module) => JSON.stringify(form[module]) !== JSON.stringify(data.saved[module]);

  // --- drafts and completeness ------------------------------------------------------------

  function changed(module) {
    clearError(module);
    clearTimeout(timers[module]);
    timers[module] = setTimeout(() => sendDraft(module), DRAFT_DELAY);
  }

  function sendDraft(module) {
    delete timers[module];
    const request = api(`profile/${module}/draft`, { values: form[module] })
      .then((answer) => renderCompleteness(answer.completeness))
      .catch((error) => ZP.toast(error.message, "error"));
    inflight[module] = request;
    return request;
  }

  // A page closed before the delay is over still keeps its draft.
  window.addEventListener("pagehide", () => {
    for (const module of Object.keys(timers)) {
      clearTimeout(timers[module]);
      fetch(`/app/api/profile/${module}/draft`, {
        method: "POST",
        keepalive: true,
        headers: { Authorization: "tma " + ZP.initData(), "Content-Type": "application/json" },
        body: JSON.stringify({ values: form[module] }),
      });
    }
  });

  function renderCompleteness(c) {
    shown = c;
    document.getElementById("progress").textContent = t("miniapp.profile.progress", { done: c.done, total: c.total });
    document.getElementById("progress").classList.toggle("done", c.complete);
    for (const module of MODULES) {
      const state = c.modules[module];
      const badge = document.getElementById(`${module}-state`);
      badge.textContent = state.complete ? t("miniapp.profile.complete_module") : t("miniapp.profile.incomplete_module");
      badge.classList.toggle("done", state.complete);
      const list = document.getElementById(`${module}-missing`);
      list.innerHTML = "";
      for (const code of state.missing) list.append(el("li", {}, t("problem." + code)));
    }
    // Said only of what is saved.
    document.getElementById("all-complete").hidden = !data.saved_completeness.complete;
  }

  // --- errors -----------------------------------------------------------------------------

  function clearError(module) {
    const box = document.getElementById(`${module}-error`);
    if (box) { box.hidden = true; box.innerHTML = ""; }
    document.querySelectorAll(`#${module} .invalid`).forEach((node) => node.classList.remove("invalid"));
  }

  function showError(module, error) {
    if (error.status === 401 || error.status === 403) {
      main.innerHTML = "";
      main.append(el("div", { class: "refusal", id: "refusal" }));
      document.getElementById("refusal").innerHTML = error.message;
      return;
    }
    const box = document.getElementById(`${module}-error`);
    const record = error.body.record;
    const prefix = record !== undefined && record !== null ? t("miniapp.profile.refused_record", { n: record + 1 }) : "";
    box.innerHTML = prefix + error.message;
    box.hidden = false;
    const field = error.field || CODE_FIELDS[error.code];
    if (field) {
      const scope = record !== undefined && record !== null
        ? document.querySelector(`#${module} [data-record="${record}"]`)
        : document.getElementById(module);
      const target = scope && scope.querySelector(`[data-field="${field}"]`);
      if (target) target.classList.add("invalid");
    }
    document.getElementById(module).scrollIntoView({ block: "start" });
    ZP.toast(prefix + error.message, "error");
  }

  // --- saving -----------------------------------------------------------------------------

  async function save(module) {
    clearTimeout(timers[module]);
    delete timers[module];
    if (inflight[module]) await inflight[module];
    try {
      data = await api(`profile/${module}`, { values: form[module] });
    } catch (error) {
      showError(module, error);
      return false;
    }
    form[module] = initialForm(module);
    rerender(module);
    renderCompleteness(data.completeness);
    ZP.toast(t("miniapp.profile.saved"), "ok");
    return true;
  }

  async function saveAll() {
    const pending = MODULES.filter(isDirty);
    if (!pending.length) { ZP.toast(t("miniapp.profile.nothing_to_save")); return; }
    for (const module of pending) {
      if (!(await save(module))) return;
    }
  }

  async function discard(module) {
    clearTimeout(timers[module]);
    delete timers[module];
    try {
      data = await api(`profile/${module}/draft`, undefined, "DELETE");
    } catch (error) {
      showError(module, error);
      return;
    }
    form[module] = initialForm(module);
    rerender(module);
    renderCompleteness(data.completeness);
  }

  // --- inputs -----------------------------------------------------------------------------

  // A labelled input bound to `values[name]`; `record` marks a repeatable group's entry.
  function bound(module, values, name, input, label, record) {
    const where = record === undefined ? `${module}-${name}` : `${module}-${record}-${name}`;
    input.id = where;
    input.name = where;
    const value = values[name];
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value === null || value === undefined ? "" : value;
    const update = () => {
      values[name] = input.type === "checkbox" ? input.checked : input.value;
      changed(module);
    };
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    if (input.type === "checkbox") {
      return el("label", { "data-field": name }, input, " ", label);
    }
    return el("label", { class: "field", "data-field": name }, el("span", {}, label), input);
  }

  function select(options, placeholder) {
    const node = el("select");
    if (placeholder) node.append(el("option", { value: "" }, placeholder));
    for (const [value, label] of options) node.append(el("option", { value }, label));
    return node;
  }

  const text = (attrs) => el("input", Object.assign({ type: "text", autocomplete: "off" }, attrs || {}));
  const dateInput = () => el("input", { type: "date", min: "1920-01-01", max: new Date().toISOString().slice(0, 10) });
  const fieldLabel = (name) => t("label.field." + name);

  // --- the four cards ---------------------------------------------------------------------

  function card(module) {
    const node = el("section", { class: "card", id: module },
      el("h2", {}, t("trainee.profile.module." + module), el("span", { class: "badge", id: `${module}-state` })),
      el("ul", { class: "missing", id: `${module}-missing` }));
    if (data.drafts[module]) {
      node.append(el("p", { class: "hint", id: `${module}-restored` }, t("miniapp.profile.restored"), " ",
        el("button", { type: "button", class: "small", id: `${module}-discard`, onclick: () => discard(module) }, t("miniapp.profile.discard"))));
    }
    return node;
  }

  function footer(module, node) {
    node.append(
      el("div", { class: "field-error", id: `${module}-error`, hidden: true, role: "alert" }),
      el("div", { class: "row-actions" },
        el("button", { type: "button", class: "primary", id: `${module}-save`, onclick: () => save(module) }, t("miniapp.profile.save"))));
    return node;
  }

  function basicCard() {
    const node = card("basic");
    const values = form.basic;
    const id = data.identity;
    node.append(el("p", { class: "hint", id: "identity" },
      t("miniapp.profile.identity", { name: id.name, id_type: t("label.id_type." + id.id_type), number: id.id_number })));
    const genders = data.choices.gender.map((g) => [g, t("trainee.profile.gender." + g)]);
    node.append(bound("basic", values, "gender", select(genders, t("miniapp.profile.choose")), fieldLabel("gender")));
    node.append(bound("basic", values, "birth_date", dateInput(), fieldLabel("birth_date")));
    const list = el("datalist", { id: "ethnicity-list" }, data.choices.ethnicity.map((name) => el("option", { value: name })));
    const ethnicity = text({ list: "ethnicity-list", placeholder: t("miniapp.profile.ethnicity_search") });
    node.append(bound("basic", values, "ethnicity", ethnicity, fieldLabel("ethnicity")), list);
    const statuses = data.choices.political_status.map((s) => [s, s]);
    node.append(bound("basic", values, "political_status", select(statuses, t("miniapp.profile.choose")), fieldLabel("political_status")));
    return footer("basic", node);
  }

  function contactCard() {
    const node = card("contact");
    const values = form.contact;
    const id = data.identity;
    node.append(el("p", { class: "hint", id: "phone" }, id.phone_verified
      ? t("miniapp.profile.phone_verified", { phone: id.phone })
      : t("miniapp.profile.phone_unverified")));
    node.append(bound("contact", values, "email", text({ type: "email", inputmode: "email" }), fieldLabel("email")));
    node.append(bound("contact", values, "address", text(), fieldLabel("address")));
    node.append(bound("contact", values, "emergency_name", text(), fieldLabel("emergency_name")));
    const masked = values.emergency_phone_masked;
    const phone = text({ type: "tel", inputmode: "tel", placeholder: masked ? t("miniapp.profile.emergency_phone_keep", { masked }) : "" });
    node.append(bound("contact", values, "emergency_phone", phone, fieldLabel("emergency_phone")));
    return footer("contact", node);
  }

  // A flag sits on one record only: ticking it here clears it on the others.
  function exclusive(module, records, index, name) {
    return (event) => {
      if (!event.target.checked) return;
      records.forEach((other, i) => {
        if (i === index || !other[name]) return;
        other[name] = false;
        const box = document.getElementById(`${module}-${i}-${name}`);
        if (box) box.checked = false;
      });
    };
  }

  function removeRecord(module, index) {
    form[module].records.splice(index, 1);
    rerender(module);
    changed(module);
  }

  function educationCard() {
    const node = card("education");
    const records = form.education.records;
    node.append(el("p", { class: "hint" }));
    node.lastChild.innerHTML = t("trainee.profile.edu_rules");
    const levels = data.choices.level.map((lv) => [lv, t("trainee.profile.level." + lv)]);
    records.forEach((record, i) => {
      const box = el("div", { class: "record", "data-record": i }, el("div", { class: "hint" }, t("miniapp.profile.record", { n: i + 1 })));
      box.append(bound("education", record, "school", text(), fieldLabel("school"), i));
      box.append(bound("education", record, "major", text(), fieldLabel("major"), i));
      box.append(bound("education", record, "level", select(levels), fieldLabel("level"), i));
      box.append(bound("education", record, "start_date", dateInput(), fieldLabel("start_date"), i));
      const end = dateInput();
      end.max = "2100-12-31";
      box.append(bound("education", record, "end_date", end, fieldLabel("end_date"), i));
      const flags = el("div", { class: "flags" });
      for (const name of EDU_FLAGS) {
        const input = el("input", { type: "checkbox" });
        input.addEventListener("change", exclusive("education", records, i, name));
        flags.append(bound("education", record, name, input, fieldLabel(name), i));
      }
      box.append(flags, el("div", { class: "row-actions" },
        el("button", { type: "button", class: "small danger", id: `education-${i}-remove`, onclick: () => removeRecord("education", i) }, t("miniapp.profile.remove"))));
      node.append(box);
    });
    node.append(el("button", {
      type: "button", class: "secondary", id: "education-add",
      onclick: () => {
        const first = records.length === 0;
        records.push({ id: null, school: "", major: "", level: "bachelor", start_date: "", end_date: "", is_first: first, is_highest: first, is_bachelor: false });
        rerender("education");
        changed("education");
        document.getElementById(`education-${records.length - 1}-school`).focus();
      },
    }, t("trainee.profile.add_education")));
    return footer("education", node);
  }

  function workCard() {
    const node = card("work");
    const values = form.work;
    const records = values.records;
    node.append(el("p", { class: "hint" }));
    node.lastChild.innerHTML = t("trainee.profile.work_rules");
    const answer = el("div", { class: "flags", "data-field": "has_work_unit" }, el("span", {}, t("trainee.profile.has_work_unit")));
    for (const [value, key] of [[true, "has_unit"], [false, "no_unit"]]) {
      const radio = el("input", { type: "radio", name: "has_work_unit", id: `work-has-${value ? "yes" : "no"}` });
      radio.checked = values.has_work_unit === value;
      radio.addEventListener("change", () => {
        values.has_work_unit = value;
        if (!value) records.forEach((r) => { r.is_current = false; });
        rerender("work");
        changed("work");
      });
      answer.append(el("label", {}, radio, " ", t("trainee.profile." + key)));
    }
    node.append(answer);
    records.forEach((record, i) => {
      const box = el("div", { class: "record", "data-record": i }, el("div", { class: "hint" }, t("miniapp.profile.record", { n: i + 1 })));
      box.append(bound("work", record, "unit_name", text(), fieldLabel("unit_name"), i));
      box.append(bound("work", record, "position", text(), fieldLabel("position"), i));
      box.append(bound("work", record, "start_date", dateInput(), fieldLabel("start_date"), i));
      const end = dateInput();
      end.max = "2100-12-31";
      box.append(bound("work", record, "end_date", end, fieldLabel("end_date") + " · " + t("trainee.profile.until_now"), i));
      const current = el("input", { type: "checkbox" });
      current.addEventListener("change", exclusive("work", records, i, "is_current"));
      box.append(el("div", { class: "flags" }, bound("work", record, "is_current", current, t("trainee.profile.is_current"), i)));
      box.append(el("div", { class: "row-actions" },
        el("button", { type: "button", class: "small danger", id: `work-${i}-remove`, onclick: () => removeRecord("work", i) }, t("miniapp.profile.remove"))));
      node.append(box);
    });
    node.append(el("button", {
      type: "button", class: "secondary", id: "work-add",
      onclick: () => {
        const current = values.has_work_unit === true && !records.some((r) => r.is_current);
        records.push({ id: null, unit_name: "", position: "", start_date: "", end_date: "", is_current: current });
        rerender("work");
        changed("work");
        document.getElementById(`work-${records.length - 1}-unit_name`).focus();
      },
    }, t("trainee.profile.add_work")));
    return footer("work", node);
  }

  const CARDS = { basic: basicCard, contact: contactCard, education: educationCard, work: workCard };

  function rerender(module) {
    const old = document.getElementById(module);
    const fresh = CARDS[module]();
    old.replaceWith(fresh);
    if (shown) renderCompleteness(shown);
  }

  ZP.start(async () => {
    main = document.getElementById("profile");
    try {
      data = await api("profile");
    } catch (error) {
      main.innerHTML = "";
      main.append(el("div", { class: "refusal", id: "refusal" }));
      document.getElementById("refusal").innerHTML = error.message;
      return;
    }
    for (const module of MODULES) form[module] = initialForm(module);
    main.append(el("p", { class: "card", id: "all-complete", hidden: true }, t("miniapp.profile.all_complete")));
    for (const module of MODULES) main.append(CARDS[module]());
    renderCompleteness(data.completeness);
    ZP.mainButton(t("miniapp.profile.save_all"), saveAll);
    ZP.backButton(() => { window.location.href = "./"; });
  });
})();
