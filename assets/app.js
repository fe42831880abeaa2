// BorgHUI Conduit: the few lines of our own JavaScript. Everything else is
// htmx. No inline script, no eval: the page's CSP forbids both.
(function () {
  "use strict";

  // Passphrase strength, mirroring conduit.Strength (Go) so the meter and
  // the server agree.
  function strength(p) {
    var chars = Array.from(p), n = chars.length;
    var distinct = new Set(chars).size;
    var lower = /[a-z]/.test(p), upper = /[A-Z]/.test(p), digit = /[0-9]/.test(p);
    var other = chars.some(function (c) { return !/[a-zA-Z0-9]/.test(c); });
    var classes = [lower, upper, digit, other].filter(Boolean).length;
    if (distinct <= 3) return 0;
    var score = n >= 20 ? 3 : n >= 14 ? 2 : n >= 10 ? 1 : 0;
    if (classes >= 3 || (classes >= 2 && n >= 16)) score++;
    return Math.min(score, 4);
  }
  var labels = ["very weak", "weak", "fair", "good", "strong"];

  document.addEventListener("input", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("[data-strength]")) {
      var meter = document.getElementById(el.getAttribute("data-strength"));
      if (meter) {
        var s = el.value ? strength(el.value) : 0;
        meter.value = s;
        var label = document.getElementById(meter.id + "-label");
        if (label) label.textContent = el.value ? "Strength: " + labels[s] : "";
      }
    }
  });

  // Pasting several words into one word box spreads them over the boxes.
  document.addEventListener("paste", function (ev) {
    var el = ev.target;
    if (!el.matches || !el.matches("input[data-word]")) return;
    var text = (ev.clipboardData || window.clipboardData).getData("text");
    var words = text.trim().split(/\s+/);
    if (words.length < 2) return;
    ev.preventDefault();
    var boxes = Array.from(document.querySelectorAll("input[data-word]"));
    var start = boxes.indexOf(el);
    words.forEach(function (w, i) { if (boxes[start + i]) boxes[start + i].value = w; });
  });

  // Copy buttons.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-copy]");
    if (!btn) return;
    var text = btn.getAttribute("data-copy");
    var done = function () {
      var old = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done);
  });

  // Live updates: one websocket per tab, reconnecting with backoff. When the
  // identity changes state elsewhere (locked in another tab, unlocked), this
  // tab follows.
  var delay = 500;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = function () { delay = 500; };
    ws.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("borg:" + ev.type, { detail: ev }));
      if (ev.type === "identity") {
        var shown = document.body.getAttribute("data-state");
        if (shown && ev.state && shown !== ev.state && shown !== "none") location.assign("/");
      }
    };
    ws.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  if (document.body && document.body.hasAttribute("data-live")) connect();
})();
