// The sandbox web chat: renders the emulated chat of the chosen persona as a Telegram client
// would, and sends what the persona types, presses and uploads. Live over server-sent events.
"use strict";

const TEXTS = window.SANDBOX_TEXTS;
const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem("sandbox.lang") || "zh-CN",
  personas: [],
  persona: localStorage.getItem("sandbox.persona") || "new",
  busy: 0,
  refreshTimer: null,
};

function t(key, params) {
  let text = (TEXTS[state.lang] || TEXTS["zh-CN"])[key] || key;
  for (const [name, value] of Object.entries(params || {})) text = text.replace(`{${name}}`, value);
  return text;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: body instanceof FormData ? {} : { "Content-Type": "application/json" },
    body: body instanceof FormData ? body : JSON.stringify(body),
  };
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

// --- page texts ----------------------------------------------------------------------------

function applyTexts() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  for (const node of document.querySelectorAll("[data-t-placeholder]"))
    node.placeholder = t(node.dataset.tPlaceholder);
  for (const node of document.querySelectorAll("[data-t-title]"))
    node.title = t(node.dataset.tTitle);
  $("lang-toggle").textContent = state.lang === "en" ? "中文" : "EN";
  renderPersonas();
}

function currentPersona() {
  return state.personas.find((p) => p.key === state.persona) || state.personas[0];
}

function renderPersonas() {
  const select = $("persona");
  select.replaceChildren(
    ...state.personas.map((p) =>
      el("option", { value: p.key, text: `${p.first_name} · ${t("stage_" + p.stage)}` })),
  );
  select.value = state.persona;
  const persona = currentPersona();
  if (persona) {
    $("persona-line").textContent =
      `${persona.first_name} · ${t("role_" + persona.role)} · ${t("phone")} ${persona.phone}`;
    $("avatar").textContent = persona.first_name.slice(0, 1);
  }
}

// --- the chat ------------------------------------------------------------------------------

function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

function renderFile(file) {
  const url = `/api/file/${encodeURIComponent(file.id)}`;
  const box = el("div", { class: "document" },
    el("span", { class: "doc-icon", text: "📄" }),
    el("span", { class: "doc-name", text: `${file.name} (${size(file.size)})` }));
  const links = el("span", { class: "doc-links" },
    el("a", { href: `${url}?download=1`, download: file.name, text: t("download") }));
  if (file.mime === "application/pdf" || file.name.toLowerCase().endsWith(".pdf")) {
    links.append(el("button", {
      type: "button", class: "link", text: t("preview"),
      onclick: () => openPreview(file.name, url),
    }));
  }
  box.append(links);
  return box;
}

function renderMessage(message) {
  const bubble = el("div", {
    class: `msg ${message.from_bot ? "bot" : "user"}`,
    "data-id": String(message.id),
  });
  if (message.photo) {
    bubble.append(el("img", { class: "photo", src: `/api/file/${message.photo.id}`, alt: "" }));
  }
  if (message.document) bubble.append(renderFile(message.document));
  if (message.contact) {
    bubble.append(el("div", { class: "contact", text: `👤 ${t("contact_shared")}` }));
  }
  if (message.html) {
    const text = el("div", { class: "text" });
    text.innerHTML = message.html; // built server-side from text + entities, every char escaped
    bubble.append(text);
  }
  const time = new Date(message.date * 1000).toLocaleTimeString(state.lang, {
    hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai",
  });
  bubble.append(el("div", { class: "meta", text: (message.edited ? `${t("edited")} ` : "") + time }));
  const wrap = el("div", { class: `row ${message.from_bot ? "left" : "right"}` }, bubble);
  if (message.buttons.length) {
    const keyboard = el("div", { class: "inline-keyboard" });
    message.buttons.forEach((row, r) => {
      const line = el("div", { class: "kb-row" });
      row.forEach((button, c) => {
        if (button.url) {
          line.append(el("a", {
            class: "kb-button", href: button.url, target: "_blank", rel: "noopener",
            text: `${button.text} ↗`,
          }));
        } else if (button.web_app) {
          line.append(el("button", {
            type: "button", class: "kb-button web-app", text: button.text,
            onclick: () => openMiniApp(button.text, button.web_app),
          }));
        } else {
          line.append(el("button", {
            type: "button", class: "kb-button", text: button.text,
            onclick: () => act("press", { message_id: message.id, row: r, column: c }),
          }));
        }
      });
      keyboard.append(line);
    });
    bubble.append(keyboard);
  }
  return wrap;
}

function renderChat(view) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const shown = view.messages.filter((m) => !m.deleted);
  box.replaceChildren(...shown.map(renderMessage));
  if (!shown.length) box.append(el("div", { class: "empty", text: t("empty") }));
  if (atBottom || state.scrollNext) box.scrollTop = box.scrollHeight;
  state.scrollNext = false;

  const keyboard = $("reply-keyboard");
  keyboard.hidden = !view.reply_keyboard;
  keyboard.replaceChildren();
  (view.reply_keyboard || []).forEach((row, r) => {
    const line = el("div", { class: "kb-row" });
    row.forEach((button, c) => line.append(el("button", {
      type: "button", class: `kb-button${button.contact ? " contact" : ""}`, text: button.text,
      onclick: () => act("reply", { row: r, column: c }),
    })));
    keyboard.append(line);
  });

  const menu = $("command-menu");
  menu.replaceChildren(...view.commands.map((c) => el("button", {
    type: "button", class: "command",
    onclick: () => { menu.hidden = true; act("send", { text: `/${c.command}` }); },
  }, el("span", { class: "cmd", text: `/${c.command}` }), el("span", { class: "desc", text: c.description }))));
  $("menu-button").hidden = !view.commands.length;
  const app = $("menu-app");
  app.hidden = !view.menu_app;
  if (view.menu_app) {
    app.textContent = view.menu_app.text;
    app.onclick = () => openMiniApp(view.menu_app.text, view.menu_app.url);
  }
}

// A Mini App button opens the page in a phone-sized frame, signed for the persona as a
// Telegram client would; closing it shows the chat again as the bot left it.
async function openMiniApp(title, url) {
  try {
    const { src } = await api(`/api/miniapp/${state.persona}`, { url, lang: state.lang });
    $("miniapp-name").textContent = title;
    $("miniapp-frame").src = src;
    $("miniapp").hidden = false;
  } catch (error) {
    showError(error);
  }
}

async function refreshChat() {
  const persona = state.persona;
  const view = await api(`/api/chat/${persona}`);
  if (persona === state.persona) {
    renderChat(view);
    $("messages").dataset.persona = persona;
  }
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refreshChat().catch(showError), 60);
}

// --- acting --------------------------------------------------------------------------------

function setBusy(delta) {
  state.busy += delta;
  document.body.classList.toggle("busy", state.busy > 0);
}

async function act(action, body) {
  setBusy(1);
  state.scrollNext = true;
  try {
    const outcome = await api(`/api/chat/${state.persona}/${action}`, body);
    if (outcome.error) showToast(`⚠️ ${outcome.error}`, true);
    else if (outcome.toast && outcome.alert) showAlert(outcome.toast);
    else if (outcome.toast) showToast(outcome.toast);
  } catch (error) {
    showError(error);
  } finally {
    await refreshChat().catch(showError);
    setBusy(-1);
  }
}

async function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  setBusy(1);
  try {
    const outcome = await api(`/api/chat/${state.persona}/upload`, form);
    if (outcome.error) showToast(`⚠️ ${outcome.error}`, true);
  } catch (error) {
    showError(error);
  } finally {
    await refreshChat().catch(showError);
    setBusy(-1);
  }
}

function showToast(text, isError) {
  const toast = $("toast");
  toast.textContent = text;
  toast.classList.toggle("error", Boolean(isError));
  toast.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { toast.hidden = true; }, 3500);
}

function showAlert(text) {
  $("alert-text").textContent = text;
  $("alert").hidden = false;
  $("alert-ok").focus();
}

function showError(error) {
  showToast(`${t("error")}: ${error.message || error}`, true);
}

function openPreview(name, url) {
  $("preview-name").textContent = name;
  $("preview-frame").src = url;
  $("preview").hidden = false;
}

// --- clock, log, problems --------------------------------------------------------------------

function renderClock(clock) {
  $("clock").textContent = `${clock.now} (${clock.timezone})`;
  $("clock").dataset.offset = String(clock.offset_hours);
}

function addLog(line) {
  const log = $("log");
  log.append(el("div", { class: `log-${line.level.toLowerCase()}`, text: line.text }));
  while (log.childElementCount > 400) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
}

function addProblem(text) {
  const box = $("problems");
  box.hidden = false;
  box.append(el("div", { class: "problem", text: `${t("problem")}: ${text}` }));
}

async function advance(hours) {
  setBusy(1);
  try {
    renderClock(await api("/api/clock/advance", { hours }));
    showToast(t("advanced", { h: hours }));
  } catch (error) {
    showError(error);
  } finally {
    setBusy(-1);
  }
}

function listen() {
  const source = new EventSource("/api/events");
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    const persona = currentPersona();
    if (event.type === "chat" && persona && event.user_id === persona.user_id) scheduleRefresh();
    else if (event.type === "clock") renderClock(event.clock);
    else if (event.type === "log") addLog(event);
    else if (event.type === "problem") addProblem(event.text);
  };
}

// --- start ---------------------------------------------------------------------------------

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    $("command-menu").hidden = true;
    act("send", { text });
  });
  $("composer-input").addEventListener("input", (event) => {
    $("command-menu").hidden = event.target.value !== "/";
  });
  $("menu-button").addEventListener("click", () => {
    $("command-menu").hidden = !$("command-menu").hidden;
  });
  $("file-input").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) upload(file);
    event.target.value = "";
  });
  $("persona").addEventListener("change", (event) => {
    state.persona = event.target.value;
    $("toast").hidden = true;
    localStorage.setItem("sandbox.persona", state.persona);
    state.scrollNext = true;
    renderPersonas();
    $("command-menu").hidden = true;
    refreshChat().catch(showError);
  });
  for (const button of document.querySelectorAll("[data-hours]")) {
    button.addEventListener("click", () => advance(Number(button.dataset.hours)));
  }
  $("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "zh-CN" : "en";
    localStorage.setItem("sandbox.lang", state.lang);
    applyTexts();
    refreshChat().catch(showError);
  });
  $("log-toggle").addEventListener("click", () => { $("log-panel").hidden = !$("log-panel").hidden; });
  $("log-close").addEventListener("click", () => { $("log-panel").hidden = true; });
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
  $("preview-close").addEventListener("click", () => {
    $("preview").hidden = true;
    $("preview-frame").src = "about:blank";
  });
  $("miniapp-close").addEventListener("click", () => {
    $("miniapp").hidden = true;
    $("miniapp-frame").src = "about:blank";
    refreshChat().catch(showError);
  });
}

async function start() {
  wire();
  const meta = await api("/api/meta");
  state.personas = meta.personas;
  const wanted = new URLSearchParams(location.search).get("persona");
  if (wanted) state.persona = wanted;
  if (!state.personas.some((p) => p.key === state.persona)) state.persona = state.personas[0].key;
  applyTexts();
  renderClock(meta.clock);
  meta.log.forEach(addLog);
  meta.problems.forEach(addProblem);
  listen();
  state.scrollNext = true;
  await refreshChat();
  setInterval(() => api("/api/meta").then((m) => renderClock(m.clock)).catch(() => {}), 30000);
  document.body.dataset.ready = "1";
}

start().catch(showError);
