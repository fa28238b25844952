// AI 陪练 page: start a session, converse, end and see the scored report; team view.
// Plain JS, no build step. All server text is inserted with textContent (never as HTML).
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const views = ["start", "chat", "report", "team"];
  let personas = [];
  let sessionId = null;
  let csrfToken = null; // the console session's form token, sent with every POST

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value; else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function show(name) {
    for (const view of views) $("view-" + view).hidden = view !== name;
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === name));
    document.body.dataset.view = name;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function api(method, url, body) {
    const headers = body ? { "Content-Type": "application/json" } : {};
    if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
    const response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (response.status === 401) { // the console login guards training too
      location.href = "/console/login?next=" + encodeURIComponent(location.pathname);
      return new Promise(() => {});
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.problem || d.msg).join("; ") : data.detail;
      throw new Error(detail || ("请求失败 / Request failed (" + response.status + ")"));
    }
    return data;
  }

  function personaCard(card) {
    const facts = el("ul", {}, ...(card.profile.facts || []).map((f) => el("li", {}, f)));
    const age = card.profile.age ? card.profile.age + "岁 / " : "";
    return [el("strong", {}, card.name + " · " + card.title),
      el("div", {}, age + card.profile.occupation), el("div", {}, card.profile.summary), facts];
  }

  function renderCard() {
    const card = personas.find((p) => p.id === $("persona").value);
    $("persona-card").replaceChildren(...(card ? personaCard(card) : []));
  }

  async function loadPersonas() {
    personas = await api("GET", "/api/training/personas");
    $("persona").replaceChildren(...personas.map((p) =>
      el("option", { value: p.id }, p.name + " · " + p.title + (p.language === "en" ? " (English)" : ""))));
    renderCard();
  }

  function addMessage(role, text) {
    const who = role === "client" ? "客户 Client" : "我 Me";
    const node = el("div", { class: "msg " + role, "data-role": role }, el("span", { class: "who" }, who), text);
    $("log").append(node);
    node.scrollIntoView({ block: "end" });
  }

  function openChat(view) {
    sessionId = view.session_id;
    $("chat-head").replaceChildren(...personaCard(view.persona));
    $("log").replaceChildren();
    view.turns.forEach((t) => addMessage(t.role, t.text));
    show("chat");
    $("message").focus();
  }

  async function start(event) {
    event.preventDefault();
    showError("");
    const seed = $("seed").value.trim();
    $("start-btn").disabled = true;
    try {
      const view = await api("POST", "/api/training/sessions", {
        persona_id: $("persona").value, seed: seed === "" ? null : Number(seed),
      });
      history.pushState({}, "", "/training/sessions/" + view.session_id);
      openChat(view);
    } catch (error) {
      showError(error.message);
    } finally {
      $("start-btn").disabled = false;
    }
  }

  async function send(event) {
    event.preventDefault();
    const text = $("message").value.trim();
    if (!text || !sessionId) return;
    showError("");
    $("send").disabled = true;
    addMessage("advisor", text);
    $("message").value = "";
    try {
      const result = await api("POST", "/api/training/sessions/" + sessionId + "/messages", { text });
      addMessage("client", result.reply.text);
      if (result.finished) showError("客户已道别，请点击“结束并评分”。 / The client said goodbye: end the session to see your score.");
    } catch (error) {
      showError(error.message);
    } finally {
      $("send").disabled = false;
      $("message").focus();
    }
  }

  async function end() {
    if (!sessionId) return;
    showError("");
    $("end-btn").disabled = true;
    try {
      const report = await api("POST", "/api/training/sessions/" + sessionId + "/end");
      const view = await api("GET", "/api/training/sessions/" + sessionId);
      renderReport(report, view.turns);
    } catch (error) {
      showError(error.message);
    } finally {
      $("end-btn").disabled = false;
    }
  }

  function renderReport(report, turns) {
    const verdict = $("verdict");
    verdict.className = "verdict " + (report.passed ? "pass" : "fail");
    verdict.dataset.passed = String(report.passed);
    verdict.replaceChildren(
      (report.passed ? "通过 Passed" : "未通过 Not passed") + " · " + report.score + " / " + report.max_score,
      el("small", {}, report.persona_name + " · " + report.client_risk_level + " · 及格线 pass mark " + report.pass_mark + "%"));
    $("judge").hidden = !report.judge_comment;
    $("judge").textContent = report.judge_comment || "";
    $("criteria").replaceChildren(...Object.values(report.criteria).map((c) => {
      const items = c.evidence.map((e) => el("li", {},
        e.turn ? "[" + e.turn + "] " : "", e.quote ? el("q", {}, e.quote) : "", e.note ? " " + e.note : ""));
      const box = el("div", { class: "criterion" + (c.passed ? "" : " failed"), "data-id": c.id, "data-passed": String(c.passed) },
        el("h3", {}, el("span", {}, c.name + " / " + c.name_en + (c.gate ? " *" : "")), el("span", { class: "score" }, c.score + " / " + c.max)),
        el("div", { class: "bar" }, el("span", { style: "width:" + Math.round(100 * c.score / c.max) + "%" })),
        el("ul", { class: "evidence" }, ...items));
      if (c.comment) box.append(el("p", { class: "comment" }, c.comment));
      return box;
    }));
    $("transcript").replaceChildren(...turns.map((t) =>
      el("li", {}, (t.role === "client" ? "客户：" : "理财经理：") + t.text)));
    $("report-json").href = "/api/training/sessions/" + report.session_id + "/report";
    history.replaceState({}, "", "/training/sessions/" + report.session_id);
    show("report");
  }

  async function openSession(id) {
    const view = await api("GET", "/api/training/sessions/" + id);
    if (view.report) renderReport(view.report, view.turns); else openChat(view);
  }

  async function loadTeam(event) {
    if (event) event.preventDefault();
    showError("");
    const ids = $("team-filter").value.split(/[,，\s]+/).filter(Boolean);
    const query = ids.map((id) => "advisor_id=" + encodeURIComponent(id)).join("&");
    try {
      const team = await api("GET", "/api/training/team" + (query ? "?" + query : ""));
      $("team-summary").textContent = "已评分场次 Scored sessions: " + team.sessions;
      $("team-criteria").tBodies[0].replaceChildren(...team.criteria.map((c) => el("tr", { "data-id": c.id },
        el("td", {}, c.name + " / " + c.name_en), el("td", {}, c.average + " / " + c.max),
        el("td", {}, Math.round(100 * c.pass_rate) + "%"))));
      $("team-violations").tBodies[0].replaceChildren(...team.top_violations.map((v) => el("tr", { "data-rule": v.rule },
        el("td", {}, v.rule + (v.critical ? " ⚠" : "")), el("td", {}, v.count), el("td", {}, v.example || ""))));
      $("team-advisors").tBodies[0].replaceChildren(...team.advisors.map((a) => el("tr", {},
        el("td", {}, a.advisor_id), el("td", {}, a.sessions), el("td", {}, a.average_percent), el("td", {}, a.passed))));
    } catch (error) {
      showError(error.message);
    }
  }

  async function whoAmI() {
    const me = await api("GET", "/api/training/me");
    csrfToken = me.csrf_token;
    $("advisor-id").textContent = me.advisor_id || "—";
  }

  async function route() {
    showError("");
    const path = location.pathname.replace(/\/+$/, "");
    const match = path.match(/^\/training\/sessions\/([0-9a-f]{32})$/);
    try {
      if (match) await openSession(match[1]);
      else if (path === "/training/team") { show("team"); await loadTeam(); }
      else { show("start"); if (!personas.length) await loadPersonas(); }
    } catch (error) {
      showError(error.message);
    }
  }

  $("persona").addEventListener("change", renderCard);
  $("start-form").addEventListener("submit", start);
  $("composer").addEventListener("submit", send);
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); $("composer").requestSubmit(); }
  });
  $("end-btn").addEventListener("click", end);
  $("team-form").addEventListener("submit", loadTeam);
  document.querySelectorAll("nav a, #again").forEach((a) => a.addEventListener("click", (event) => {
    event.preventDefault();
    history.pushState({}, "", a.getAttribute("href"));
    route();
  }));
  window.addEventListener("popstate", route);
  whoAmI().then(route, (error) => showError(error.message));
})();
