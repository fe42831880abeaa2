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
    ws.onopen = function () {
      delay = 500;
      // Events sent before this socket opened (while the page loaded, or
      // while the connection was lost) are not replayed: refresh what the
      // page shows live instead.
      ["files", "mail", "wallet", "network"].forEach(function (type) {
        document.dispatchEvent(new CustomEvent("borg:" + type, { detail: { type: type } }));
      });
    };
    ws.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("borg:" + ev.type, { detail: ev }));
      if (ev.type === "identity") {
        var shown = document.body.getAttribute("data-state");
        if (shown && ev.state && shown !== ev.state && shown !== "none") location.assign("/");
      }
      if (ev.type === "network") {
        if (ev.state === "connected" && document.querySelector("[data-reload-on-connect]")) location.reload();
        if (ev.text) toast(ev.text);
      }
      if (ev.type === "transfer") transfer(ev);
    };
    ws.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  if (document.body && document.body.hasAttribute("data-live")) connect();

  // Toasts: a short note in the corner, read out by screen readers.
  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var t = document.createElement("div");
    t.className = "toast";
    t.textContent = text;
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 8000);
  }

  // Uploads. Files dropped on [data-upload] or chosen in its input are sent
  // one at a time as the body of POST /files/upload; the conduit encrypts
  // and stores them while it reads, and reports progress over the
  // websocket ("transfer" events), which fills each file's row.
  function hex(n) {
    var b = new Uint8Array(n);
    crypto.getRandomValues(b);
    return Array.from(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function fmtBytes(n) {
    var u = ["B", "kB", "MB", "GB", "TB"], i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)) + " " + u[i];
  }
  function fmtETA(s) {
    if (!(s >= 0)) return "";
    if (s < 60) return Math.ceil(s) + " s left";
    return Math.ceil(s / 60) + " min left";
  }
  function row(tid) { return document.querySelector('#transfers li[data-tid="' + tid + '"]'); }
  function transfer(ev) {
    var li = row(ev.id);
    if (!li) return;
    var bar = li.querySelector("progress"), st = li.querySelector(".status");
    if (ev.total) bar.max = ev.total;
    if (ev.done) bar.value = ev.done;
    if (ev.state === "uploading") {
      st.textContent = fmtBytes(ev.done || 0) + " of " + fmtBytes(ev.total || 0) +
        (ev.rate ? " · " + fmtBytes(ev.rate) + "/s" : "") + (ev.eta > 0 ? " · " + fmtETA(ev.eta) : "");
    }
  }
  var queue = [], busy = false;
  function enqueue(zone, list) {
    var ul = zone.querySelector("#transfers");
    Array.from(list).forEach(function (f) {
      var tid = hex(16), li = document.createElement("li");
      li.setAttribute("data-tid", tid);
      var name = document.createElement("span"); name.className = "name"; name.textContent = f.name;
      var bar = document.createElement("progress"); bar.max = f.size || 1; bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + f.name);
      var st = document.createElement("span"); st.className = "status"; st.textContent = "Waiting";
      li.append(name, bar, st);
      ul.appendChild(li);
      queue.push({ file: f, tid: tid, folder: zone.getAttribute("data-upload") || "", li: li });
    });
    next();
  }
  function next() {
    if (busy || queue.length === 0) return;
    busy = true;
    var job = queue.shift(), st = job.li.querySelector(".status");
    st.textContent = "Encrypting and sending…";
    var url = "/files/upload?folder=" + encodeURIComponent(job.folder) + "&name=" +
      encodeURIComponent(job.file.name) + "&tid=" + job.tid +
      "&mtime=" + (job.file.lastModified || 0);
    fetch(url, { method: "POST", body: job.file, credentials: "same-origin",
      headers: { "Content-Type": job.file.type || "application/octet-stream" } })
      .then(function (r) {
        return r.text().then(function (text) {
          if (!r.ok) throw new Error(text || ("The upload failed (" + r.status + ")."));
          job.li.classList.add("done");
          var bar = job.li.querySelector("progress"); bar.value = bar.max;
          st.textContent = "Stored";
        });
      })
      .catch(function (e) {
        job.li.classList.add("failed");
        st.textContent = (e && e.message ? e.message.trim() : "The upload failed.") + " Try again.";
      })
      .finally(function () {
        busy = false;
        document.dispatchEvent(new CustomEvent("borg:files"));
        next();
      });
  }
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (!el.matches || !el.matches("[data-upload-input]")) return;
    var zone = el.closest("[data-upload]");
    if (zone && el.files.length) enqueue(zone, el.files);
    el.value = "";
  });
  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      var zone = ev.target.closest && ev.target.closest("[data-upload]");
      if (!zone) return;
      ev.preventDefault();
      zone.classList.add("over");
    });
  });
  document.addEventListener("dragleave", function (ev) {
    var zone = ev.target.closest && ev.target.closest("[data-upload]");
    if (zone) zone.classList.remove("over");
  });
  document.addEventListener("drop", function (ev) {
    var zone = ev.target.closest && ev.target.closest("[data-upload]");
    if (!zone) return;
    ev.preventDefault();
    zone.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) enqueue(zone, ev.dataTransfer.files);
  });
})();
