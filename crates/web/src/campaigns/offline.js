// Visits filled in where the connection is gone are kept on the phone (IndexedDB, which holds
// photos as they are) and sent when it returns; the visit's key makes a second send harmless.
(function () {
  "use strict";
  var STORE = "visits";
  var status = document.getElementById("offline-status");
  var token = document.getElementById("offline-queue").getAttribute("data-csrf");
  function db() {
    return new Promise(function (ok, fail) {
      var r = indexedDB.open("ducha-offline", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, { keyPath: "key" }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
    });
  }
  function run(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var t = d.transaction(STORE, mode);
        var req = fn(t.objectStore(STORE));
        t.oncomplete = function () { ok(req ? req.result : undefined); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function queued() { return run("readonly", function (s) { return s.getAll(); }); }
  function keep(item) { return run("readwrite", function (s) { s.put(item); }); }
  function drop(key) { return run("readwrite", function (s) { s.delete(key); }); }
  function say(text, kind) {
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || "";
    status.className = "notice " + (kind || "");
    if (text) status.scrollIntoView({ block: "nearest" });
  }
  // Send one visit; resolves {ok, body} or {ok: false, body} for a refusal; rejects when offline.
  function send(item) {
    var fd = new FormData();
    item.fields.forEach(function (f) { fd.append(f[0], f[0] === "_csrf" ? token : f[1]); });
    item.files.forEach(function (f) { fd.append(f.name, f.blob, f.filename); });
    return fetch(item.api, { method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRF-Token": token, "Accept": "application/json" } })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); });
  }
  function flush() {
    if (!navigator.onLine) return Promise.resolve();
    return queued().then(function (items) {
      if (!items.length) return;
      var sent = 0, refused = [];
      return items.reduce(function (p, item) {
        return p.then(function () {
          return send(item).then(function (r) {
            if (r.ok) { sent++; return drop(item.key); }
            item.error = (r.body && r.body.error) || ("错误 " + r.status);
            refused.push(item.error);
            return keep(item);
          });
        });
      }, Promise.resolve()).then(function () {
        var text = sent ? "已自动提交 " + sent + " 条离线保存的走访记录。" : "";
        if (refused.length) text += "本机还有 " + refused.length + " 条走访记录未能提交：" + refused.join("；");
        say(text, refused.length ? "error" : "ok");
      });
    }).catch(function () { /* still offline: try again when the connection returns */ });
  }
  function showQueued() {
    return queued().then(function (items) {
      if (items.length) say("网络不通：走访记录已保存在本机（待提交 " + items.length + " 条），联网后自动提交，请勿清除浏览器数据。", "warn");
    });
  }
  var form = document.getElementById("visit-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var fields = [], files = [];
      new FormData(form).forEach(function (v, k) {
        if (typeof v === "string") fields.push([k, v]);
        else if (v.size > 0) files.push({ name: k, filename: v.name, blob: v });
      });
      var item = { key: form.querySelector("[name=client_key]").value, api: form.getAttribute("data-api"), fields: fields, files: files, saved_at: new Date().toISOString() };
      Array.prototype.forEach.call(form.querySelectorAll(".error"), function (el) { el.textContent = ""; });
      var formError = document.getElementById("form-error");
      var queue = function () { return keep(item).then(showQueued); };
      if (!navigator.onLine) { queue(); return; }
      send(item).then(function (r) {
        if (r.ok) { window.location = form.getAttribute("data-done"); return; }
        (r.body.fields || []).forEach(function (f) {
          var el = form.querySelector('.error[data-for="' + f.field + '"]');
          if (el) el.textContent = f.message;
        });
        formError.hidden = false;
        formError.textContent = r.body.error || "提交失败";
      }, queue);
    });
  }
  window.addEventListener("online", flush);
  showQueued().then(flush);
})();
