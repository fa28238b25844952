// Web chat client: no build step. One stable sender id per browser, kept in localStorage.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const send = document.getElementById("send");
  let senderId = localStorage.getItem("advisor.sender_id");
  if (!senderId) {
    senderId = "w" + (crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "") : String(Date.now()) + Math.random().toString(16).slice(2));
    localStorage.setItem("advisor.sender_id", senderId);
  }

  function add(text, cls, citations) {
    const div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;
    if (citations && citations.length) {
      const c = document.createElement("div");
      c.className = "cites";
      c.textContent = "来源 / Sources: ";
      citations.forEach(function (x) {
        const s = document.createElement("span");
        s.textContent = x.title;
        c.appendChild(s);
      });
      div.appendChild(c);
    }
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  async function submit(text) {
    add(text, "me");
    send.disabled = true;
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender_id: senderId, message: text }),
      });
      const body = await res.json().catch(function () { return {}; });
      if (res.ok) {
        (body.messages || []).forEach(function (m) { add(m.text, "bot", m.citations); });
      } else if (res.status === 503) {
        add(body.message || "系统繁忙，请稍后再试。/ We're busy; please try again later.", "error");
      } else {
        const why = (body.detail || []).map(function (d) { return d.problem; }).join("; ");
        add("消息未发送 / Message not sent: " + (why || res.status), "error");
      }
    } catch (e) {
      add("网络异常，请稍后再试。/ Network problem; please try again later.", "error");
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    submit(text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });
})();
