// The Mini App's shell: init data, theme, Telegram's buttons, the API helper and texts.
// Works inside Telegram (telegram-web-app.js loaded) and without it: offline in the sandbox
// and the tests the init data comes in the URL fragment, `#tgWebAppData=…`, as Telegram
// passes it to the page.
(function () {
  "use strict";
  const STORE = "zhupei.tma";

  function fragment() {
    const hash = window.location.hash.replace(/^#/, "");
    return new URLSearchParams(hash);
  }

  function webApp() {
    const tg = window.Telegram && window.Telegram.WebApp;
    return tg && tg.initData ? tg : null;
  }

  // The signed init data: Telegram's, the fragment's, or the one this tab saw first (the
  // fragment is gone once the page moves on to another page of the app).
  function initData() {
    const tg = webApp();
    let data = tg ? tg.initData : fragment().get("tgWebAppData");
    if (data) {
      try { sessionStorage.setItem(STORE, data); } catch (e) { /* private mode */ }
      return data;
    }
    try { return sessionStorage.getItem(STORE) || ""; } catch (e) { return ""; }
  }

  function themeParams() {
    const tg = webApp();
    if (tg && tg.themeParams) return tg.themeParams;
    const raw = fragment().get("tgWebAppThemeParams");
    if (!raw) return {};
    try { return JSON.parse(raw); } catch (e) { return {}; }
  }

  // Telegram's theme as CSS variables (--tg-theme-bg-color …), as telegram-web-app.js sets them.
  function applyTheme() {
    const params = themeParams();
    const root = document.documentElement.style;
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === "string") root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
    }
  }

  let texts = {};
  function t(key, params) {
    let text = texts[key];
    if (text === undefined) return key;
    for (const [name, value] of Object.entries(params || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || String(status));
      this.status = status;
      this.body = body || {};
      this.code = this.body.error;
      this.field = this.body.field;
    }
  }

  // GET without a body, POST with one; the answer's JSON, or an ApiError carrying the
  // server's message in the user's language.
  async function api(path, body, method) {
    const options = {
      method: method || (body === undefined ? "GET" : "POST"),
      headers: { Authorization: "tma " + initData(), Accept: "application/json" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/app/api/" + path.replace(/^\//, ""), options);
    let payload = null;
    try { payload = await response.json(); } catch (e) { payload = null; }
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }

  // The main action: Telegram's MainButton inside Telegram, a button at the page's foot
  // otherwise. Returns {setText, show, hide, enable, disable}.
  function mainButton(text, onClick) {
    const tg = webApp();
    if (tg && tg.MainButton && tg.platform !== "unknown") {
      tg.MainButton.setText(text);
      tg.MainButton.onClick(onClick);
      tg.MainButton.show();
      return {
        setText: (value) => tg.MainButton.setText(value),
        show: () => tg.MainButton.show(),
        hide: () => tg.MainButton.hide(),
        enable: () => tg.MainButton.enable(),
        disable: () => tg.MainButton.disable(),
      };
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "main-button";
    button.id = "main-button";
    button.textContent = text;
    button.addEventListener("click", onClick);
    document.body.appendChild(button);
    document.body.classList.add("has-main-button");
    return {
      setText: (value) => { button.textContent = value; },
      show: () => { button.hidden = false; },
      hide: () => { button.hidden = true; },
      enable: () => { button.disabled = false; },
      disable: () => { button.disabled = true; },
    };
  }

  // Back: Telegram's BackButton inside Telegram, a link in the header otherwise.
  function backButton(onClick) {
    const tg = webApp();
    if (tg && tg.BackButton && tg.platform !== "unknown") {
      tg.BackButton.onClick(onClick);
      tg.BackButton.show();
      return;
    }
    const header = document.querySelector("header");
    if (!header) return;
    const link = document.createElement("button");
    link.type = "button";
    link.className = "back";
    link.id = "back-button";
    link.textContent = "‹ " + t("miniapp.back");
    link.addEventListener("click", onClick);
    header.prepend(link);
  }

  function toast(message, kind) {
    let box = document.getElementById("toast");
    if (!box) {
      box = document.createElement("div");
      box.id = "toast";
      box.setAttribute("role", "status");
      document.body.appendChild(box);
    }
    box.className = "toast " + (kind || "info");
    box.innerHTML = message; // locale texts are Telegram HTML with escaped parameters
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // Load the caller (role, language, texts) once; pages call `ZP.start(render)`.
  async function start(render) {
    applyTheme();
    const tg = webApp();
    if (tg) { tg.ready(); tg.expand(); }
    let me;
    try {
      me = await api("me");
    } catch (error) {
      document.body.classList.add("refused");
      const main = document.querySelector("main") || document.body;
      main.innerHTML = "";
      const box = document.createElement("div");
      box.className = "refusal";
      box.id = "refusal";
      box.innerHTML = error.message;
      main.appendChild(box);
      return;
    }
    texts = me.texts || {};
    document.documentElement.lang = me.locale;
    document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = t(node.dataset.t); });
    await render(me);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // telegram-web-app.js is loaded with `async`: wait for it (or its failure, offline).
  function telegramReady() {
    if (window.Telegram && window.Telegram.WebApp) return Promise.resolve();
    const script = document.querySelector('script[src*="telegram-web-app.js"]');
    if (!script) return Promise.resolve();
    return new Promise((resolve) => {
      script.addEventListener("load", resolve);
      script.addEventListener("error", resolve);
      setTimeout(resolve, 2000);
    });
  }

  window.ZP = {
    initData, api, ApiError, t, mainButton, backButton, toast, el,
    start: (render) => telegramReady().then(() => start(render)),
    webApp,
  };
})();
