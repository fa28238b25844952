// Web chat client, no build step. The conversation lives on the server (Rasa's tracker): the page keeps
// only its sender id, an unguessable random token in localStorage, and restores the visible history
// from GET /api/chat/history on load. "新对话 / New chat" forgets the id and starts a new conversation.
(function () {
  "use strict";
  const ID_KEY = "advisor.sender_id";
  const LANG_KEY = "advisor.lang";
  const ID_FORMAT = /^[A-Za-z0-9_-]{32,128}$/; // the server's format for a history-capable id
  const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

  const log = document.getElementById("log");
  const messages = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  const langToggle = document.getElementById("lang-toggle");
  let pending = false;

  // -- storage (private browsing may refuse it: the conversation then lasts as long as the page) ------
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function save(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* memory only */ } }

  function newSenderId() {
    const bytes = new Uint8Array(16); // 128 random bits: the id is what gives access to the history
    crypto.getRandomValues(bytes);
    return "w" + Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  let senderId = load(ID_KEY);
  if (!senderId || !ID_FORMAT.test(senderId)) {
    senderId = newSenderId();
    save(ID_KEY, senderId);
  }
  let lang = load(LANG_KEY) || ((navigator.language || "").toLowerCase().startsWith("en") ? "en" : "zh");

  // -- rendering ---------------------------------------------------------------------------------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // Sources by title, link-styled: 《title》 in Chinese replies, the bare title in English ones.
  function sources(citations, text) {
    const zh = CJK.test(text);
    const box = el("div", "cites");
    box.appendChild(el("span", "cites-label", zh ? "来源：" : "Sources: "));
    citations.forEach(function (c, i) {
      const cite = el("cite", "source", c.title);
      cite.lang = zh ? "zh-CN" : "en";
      cite.title = c.id;
      if (zh) box.append("《", cite, "》"); else box.appendChild(cite);
      if (i < citations.length - 1) box.appendChild(el("span", "sep", zh ? "" : ";"));
    });
    return box;
  }

  // The advisor's WeCom 「联系我」 QR code (WeCom serves the image; scanning it with WeChat adds the advisor).
  function advisorQr(url, text) {
    const zh = CJK.test(text);
    const link = el("a", "advisor-qr");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const img = el("img");
    img.src = url;
    img.alt = zh ? "理财经理的企业微信二维码" : "Your advisor's WeCom QR code";
    img.width = 160;
    img.height = 160;
    link.appendChild(img);
    return link;
  }

  function quickReplies(buttons) {
    const group = el("div", "quick-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "快捷回复 / Quick replies");
    buttons.forEach(function (b) {
      const button = el("button", "qr", b.title);
      button.type = "button";
      // The payload is plain text; a "/command" would be refused by the server, so send the title.
      const text = b.payload && b.payload.charAt(0) !== "/" ? b.payload : b.title;
      button.addEventListener("click", function () { submit(text, "button"); });
      group.appendChild(button);
    });
    return group;
  }

  function addUser(text) {
    const div = el("div", "msg me", text);
    messages.appendChild(div);
    scrollDown();
    return div;
  }

  function addBot(m) {
    const div = el("div", "msg bot");
    div.tabIndex = -1;
    if (m.kind) div.dataset.kind = m.kind;
    div.appendChild(el("div", "text", m.text));
    if (m.citations && m.citations.length) div.appendChild(sources(m.citations, m.text));
    if (m.qr_code && /^https?:\/\//i.test(m.qr_code)) div.appendChild(advisorQr(m.qr_code, m.text));
    messages.appendChild(div);
    if (m.buttons && m.buttons.length) messages.appendChild(quickReplies(m.buttons));
    scrollDown();
    return div;
  }

  function addError(text) {
    const div = el("div", "msg error", text);
    div.setAttribute("role", "alert");
    messages.appendChild(div);
    scrollDown();
  }

  // Quick replies belong to the message they follow: once the conversation moves on they are spent.
  function retireQuickReplies() {
    messages.querySelectorAll(".quick-replies:not(.spent)").forEach(function (group) {
      group.classList.add("spent");
      group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    });
  }

  function showTyping() {
    const div = el("div", "msg bot typing");
    div.id = "typing";
    div.setAttribute("role", "status");
    div.setAttribute("aria-label", "正在输入… / Typing…");
    for (let i = 0; i < 3; i++) div.appendChild(el("span", "dot"));
    messages.appendChild(div);
    scrollDown();
  }

  function hideTyping() {
    const typing = document.getElementById("typing");
    if (typing) typing.remove();
  }

  function setPending(on) {
    pending = on;
    send.disabled = on;
    document.querySelectorAll(".quick-replies:not(.spent) button, #suggestion-list button").forEach(function (b) {
      b.disabled = on;
    });
    if (on) showTyping(); else hideTyping();
  }

  // -- talking to the server ----------------------------------------------------------------------
  async function submit(text, via) {
    if (pending || !text) return;
    await restored; // the restored history comes first
    const sender = senderId;
    retireQuickReplies();
    addUser(text);
    setPending(true);
    let replies = [];
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender_id: sender, message: text }),
      });
      const body = await res.json().catch(function () { return {}; });
      if (sender !== senderId) return; // a new conversation was started meanwhile
      if (res.ok) {
        replies = (body.messages || []).map(addBot);
      } else if (body.message) { // 503 dialogue unavailable, 429 too many messages
        addError(body.message);
      } else {
        const why = (body.detail || []).map(function (d) { return d.problem; }).join("; ");
        addError("消息未发送 / Message not sent: " + (why || res.status));
      }
    } catch (e) {
      if (sender === senderId) addError("网络异常，请稍后再试。/ Network problem; please try again later.");
    } finally {
      if (sender === senderId) {
        setPending(false);
        focusAfterReply(replies, via);
      }
    }
  }

  // Typing in the box: stay there. A tap: go to the reply's first quick reply, or to the reply itself,
  // so a phone's keyboard does not pop up after every tap.
  function focusAfterReply(replies, via) {
    if (via === "composer") { input.focus(); return; }
    const next = messages.querySelector(".quick-replies:not(.spent) button");
    if (next) next.focus();
    else if (replies.length) replies[replies.length - 1].focus();
  }

  async function restoreHistory() {
    try {
      const res = await fetch("/api/chat/history?sender_id=" + encodeURIComponent(senderId));
      if (!res.ok) return;
      const body = await res.json();
      const sender = senderId;
      if (body.sender_id !== sender) return;
      body.messages.forEach(function (m) {
        retireQuickReplies();
        if (m.role === "user") addUser(m.text); else addBot(m);
      });
      const last = body.messages[body.messages.length - 1];
      if (last && last.role === "user") retireQuickReplies();
    } catch (e) {
      // no history: the page starts fresh
    }
  }

  async function showWelcome() {
    const box = document.getElementById("suggestions");
    const list = document.getElementById("suggestion-list");
    langToggle.textContent = lang === "zh" ? "EN" : "中文";
    langToggle.setAttribute("aria-label", lang === "zh" ? "推荐问题改用英文 / Suggestions in English" : "推荐问题改用中文 / Suggestions in Chinese");
    try {
      const res = await fetch("/api/chat/welcome?lang=" + lang);
      if (!res.ok) return;
      const body = await res.json();
      document.getElementById("bank-name").textContent = body.bank_name.zh + " · ";
      document.getElementById("bank-name-en").textContent = body.bank_name.en + " ";
      document.getElementById("greeting-zh").textContent = body.greeting.zh;
      document.getElementById("greeting-en").textContent = body.greeting.en;
      document.getElementById("suggestions-title").textContent = body.suggestions_title;
      list.replaceChildren();
      list.lang = lang === "zh" ? "zh-CN" : "en";
      body.suggestions.forEach(function (s) {
        const li = el("li");
        const button = el("button", "suggestion", s.title);
        button.type = "button";
        button.dataset.doc = s.id;
        button.disabled = pending;
        button.addEventListener("click", function () { submit(s.title, "button"); });
        li.appendChild(button);
        list.appendChild(li);
      });
      box.hidden = body.suggestions.length === 0;
    } catch (e) {
      box.hidden = true;
    }
  }

  // -- controls -----------------------------------------------------------------------------------
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || pending) return;
    input.value = "";
    grow();
    submit(text, "composer");
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }
  input.addEventListener("input", grow);

  document.getElementById("new-chat").addEventListener("click", function () {
    senderId = newSenderId(); // the old id is forgotten on this device
    save(ID_KEY, senderId);
    messages.replaceChildren();
    setPending(false);
    status.textContent = "已开始新对话 / New conversation started";
    log.scrollTop = 0;
    input.value = "";
    input.focus();
  });

  langToggle.addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    save(LANG_KEY, lang);
    showWelcome();
  });

  showWelcome();
  const restored = restoreHistory();
})();
