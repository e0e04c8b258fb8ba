/* The sandbox pages: poll the page's JSON endpoint once a second and redraw what changed;
   send the customer's messages without reloading. Text goes in with textContent only. */
(function () {
  "use strict";

  var POLL_MS = 1000;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderMessages(list, messages) {
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren();
    if (!messages.length) { list.appendChild(el("li", "empty", "No messages yet.")); }
    messages.forEach(function (m) {
      var item = el("li", "msg msg-" + m.role + (m.private ? " msg-private" : ""));
      var meta = m.author + " · " + m.time + (m.private ? " · private note" : "");
      item.appendChild(el("span", "meta", meta));
      item.appendChild(el("p", "", m.text));
      list.appendChild(item);
    });
    if (nearBottom) { list.scrollTop = list.scrollHeight; }
  }

  function renderRows(body, rows) {
    var base = body.getAttribute("data-open");
    body.replaceChildren();
    if (!rows.length) {
      var empty = el("tr", "empty");
      var cell = el("td", "", "No conversations yet: start one in the customer chat.");
      cell.colSpan = 5;
      empty.appendChild(cell);
      body.appendChild(empty);
    }
    rows.forEach(function (r) {
      var tr = el("tr"), first = el("td"), link = el("a", "", String(r.number));
      link.href = base + "/" + encodeURIComponent(r.id);
      first.appendChild(link);
      tr.appendChild(first);
      tr.appendChild(el("td", "", r.customer));
      var status = el("td");
      status.appendChild(el("span", "badge badge-" + r.status, r.status));
      tr.appendChild(status);
      tr.appendChild(el("td", "", r.assignee));
      tr.appendChild(el("td", "", (r.private_last ? "(private note) " : "") + r.last));
      body.appendChild(tr);
    });
  }

  function renderFacts(row) {
    document.querySelectorAll("[data-field]").forEach(function (node) {
      var name = node.getAttribute("data-field");
      node.textContent = row[name];
      if (name === "status") { node.className = "badge badge-" + row.status; }
    });
  }

  function renderChatStatus(status) {
    var node = document.getElementById("chat-status");
    if (!node) { return; }
    node.textContent = status === "resolved"
      ? "This conversation is resolved; write again to reopen it." : "";
  }

  function render(data) {
    var list = document.getElementById("messages");
    var rows = document.getElementById("conversations");
    if (data.messages && list) { renderMessages(list, data.messages); }
    if (data.conversations && rows) { renderRows(rows, data.conversations); }
    if (data.conversation) { renderFacts(data.conversation); }
    if (data.status) { renderChatStatus(data.status); }
  }

  function startPolling(source) {
    var url = source.getAttribute("data-poll"), last = null, timer = null;
    function poll() {
      clearTimeout(timer);
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (response.status === 404) { throw new Error("gone"); }
          return response.text();
        })
        .then(function (text) {
          if (text !== last) { last = text; render(JSON.parse(text)); }
          timer = setTimeout(poll, POLL_MS);
        })
        .catch(function (error) {
          if (error.message === "gone") { window.location.reload(); return; }
          timer = setTimeout(poll, POLL_MS * 3); // the sandbox is restarting or stopped
        });
    }
    poll();
    return poll;
  }

  function sendWithoutReload(form, refresh) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[name=text]");
      event.preventDefault();
      if (!input.value.trim()) { return; }
      var body = new URLSearchParams(new FormData(form));
      input.value = "";
      fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" } })
        .then(function () { if (refresh) { refresh(); } });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.querySelector("[data-poll]");
    var list = document.getElementById("messages");
    if (list) { list.scrollTop = list.scrollHeight; } // the newest messages first in view
    var refresh = source ? startPolling(source) : null;
    var form = document.querySelector("form[data-send]");
    if (form) { sendWithoutReload(form, refresh); }
  });
})();
