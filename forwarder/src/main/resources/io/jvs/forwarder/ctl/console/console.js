// The jvs console: polls /api/console and /api/audit, draws them with textContent only
// (never markup from data), and sends each form as one change (POST /api/change,
// form-encoded, with the session's CSRF token in X-CSRF-Token). No framework.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let state = null;
  let csrf = "";
  let serviceEdit = null; // the service being edited: its form fields
  let serverEdit = null;
  let loginError = "";
  let drawn = "";

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function button(text, label, onClick, disabled) {
    const b = el("button", text);
    b.type = "button";
    b.setAttribute("aria-label", label);
    b.disabled = !!disabled;
    b.addEventListener("click", onClick);
    return b;
  }

  async function post(path, fields) {
    const body = new URLSearchParams(fields);
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    const r = await fetch(path, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
    let answer = {};
    try { answer = await r.json(); } catch (e) { answer = { message: "HTTP " + r.status }; }
    answer.httpStatus = r.status;
    return answer;
  }

  function showResult(answer) {
    $("result-command").textContent = answer.command || "(none)";
    const outcome = $("result-outcome");
    if (answer.accepted) {
      outcome.textContent = "Accepted";
      outcome.className = "accepted";
      $("result-error").textContent = "";
    } else {
      outcome.textContent = "Refused (HTTP " + answer.httpStatus + ")";
      outcome.className = "refused";
      $("result-error").textContent = answer.error || answer.message || "";
    }
  }

  async function change(fields) {
    const answer = await post("/api/change", fields);
    showResult(answer);
    await refresh();
    return answer;
  }

  // ------------------------------------------------------------ access
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answer = await post("/api/login", { token: $("login-token").value });
    $("login-token").value = "";
    if (answer.httpStatus === 200) {
      csrf = answer.csrf;
      loginError = "";
    } else {
      loginError = "Login refused: " + (answer.message || ("HTTP " + answer.httpStatus));
    }
    await refresh();
  });
  $("logout-button").addEventListener("click", async () => {
    await post("/api/logout", {});
    csrf = "";
    await refresh();
  });

  function drawAccess() {
    const canChange = state.changesEnabled && state.loggedIn;
    {
      $("access-state").textContent = loginError && !state.loggedIn ? loginError : !state.changesEnabled
        ? "Read only: changes are off (the director has no control token)."
        : state.loggedIn ? "Logged in: changes allowed (session ends after " + state.idleSeconds + " s idle)."
          : "Read only. Log in with the control token to change the configuration.";
    }
    $("login-form").hidden = !state.changesEnabled || state.loggedIn;
    $("logout-button").hidden = !state.loggedIn;
    for (const b of document.querySelectorAll("form.change button, #services button")) {
      b.disabled = !canChange;
    }
  }

  // ------------------------------------------------------------ services
  function serviceFields(svc, action) {
    return { action: action, kind: svc.form.kind, service: svc.form.service, ipv6: svc.form.ipv6 };
  }
  function serverFields(svc, rs, action, weight) {
    const f = Object.assign({}, rs.form, serviceFields(svc, action));
    if (weight !== undefined) f.weight = String(weight);
    return f;
  }

  function drawServices() {
    // Redrawn only when something changed, keeping the keyboard focus on the same button.
    const now = JSON.stringify(state.services) + state.loggedIn;
    if (now === drawn) return;
    drawn = now;
    const focused = document.activeElement && document.activeElement.closest("#services")
      ? document.activeElement.getAttribute("aria-label") : null;
    const box = $("services");
    box.replaceChildren();
    if (state.services.length === 0) {
      box.appendChild(el("p", "No virtual services."));
    }
    for (const svc of state.services) {
      const t = el("table");
      t.className = "service";
      const cap = el("caption");
      const f = svc.form;
      cap.appendChild(el("span", svc.label + "  scheduler " + f.scheduler
        + (f["sched-flags"] ? " (" + f["sched-flags"] + ")" : "")
        + (f.persistent ? "  persistent " + f["persistence-timeout"] + (f.netmask ? " mask " + f.netmask : "") : "")
        + (f.ops ? "  ops" : "") + (f.synproxy ? "  synproxy" : "") + (f.laddr ? "  laddr " + f.laddr + " client-addr " + f["client-addr"] : "")
        + (f["svc-timeout"] ? "  timeouts " + f["svc-timeout"] : "") + "  "));
      cap.appendChild(button("Edit", "Edit service " + svc.label, () => editService(svc)));
      cap.appendChild(document.createTextNode(" "));
      cap.appendChild(button("Delete", "Delete service " + svc.label, () => {
        if (confirm("Delete " + svc.label + " and its real servers?")) change(serviceFields(svc, "delete-service"));
      }));
      t.appendChild(cap);
      const head = el("tr");
      for (const h of ["Real server", "Method", "Weight", "Active", "Inactive", "Connections", "Health",
        "Last transition", "Actions"]) {
        const th = el("th", h);
        th.scope = "col";
        head.appendChild(th);
      }
      const thead = el("thead");
      thead.appendChild(head);
      t.appendChild(thead);
      const tbody = el("tbody");
      for (const rs of svc.realServers) {
        const tr = el("tr");
        tr.dataset.server = rs.form.server;
        const th = el("th", rs.form.server);
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(el("td", rs.form.method));
        tr.appendChild(el("td", rs.form.weight, "num weight"));
        tr.appendChild(el("td", rs.active, "num active"));
        tr.appendChild(el("td", rs.inactive, "num inactive"));
        tr.appendChild(el("td", rs.conns, "num"));
        tr.appendChild(el("td", rs.health, rs.health));
        tr.appendChild(el("td", rs.lastTransition));
        const actions = el("td");
        const name = rs.form.server + " of " + svc.label;
        actions.appendChild(button("Edit", "Edit real server " + name, () => editServer(svc, rs)));
        actions.appendChild(document.createTextNode(" "));
        if (rs.form.weight !== "0") {
          actions.appendChild(button("Drain", "Drain real server " + name + " (weight 0)",
            () => change(serverFields(svc, rs, "edit-server", 0))));
        } else {
          const back = rs.lastWeight > 0 ? rs.lastWeight : 1;
          actions.appendChild(button("Put back", "Put back real server " + name + " (weight " + back + ")",
            () => change(serverFields(svc, rs, "edit-server", back))));
        }
        actions.appendChild(document.createTextNode(" "));
        actions.appendChild(button("Remove", "Remove real server " + name, () => {
          if (confirm("Remove " + name + "?")) change(serverFields(svc, rs, "delete-server"));
        }));
        tr.appendChild(actions);
        tbody.appendChild(tr);
      }
      t.appendChild(tbody);
      box.appendChild(t);
    }
    // the real-server form's service choice
    const sel = $("rs-service-select");
    const before = sel.value;
    sel.replaceChildren();
    for (const svc of state.services) {
      const o = el("option", svc.label);
      o.value = svc.form.kind + " " + svc.form.service;
      sel.appendChild(o);
    }
    if (before) sel.value = before;
    if (focused) {
      for (const b of box.querySelectorAll("button")) {
        if (b.getAttribute("aria-label") === focused) { b.disabled = false; b.focus(); }
      }
    }
  }

  // ------------------------------------------------------------ forms
  function fillForm(form, fields) {
    for (const input of form.elements) {
      if (!input.name || !(input.name in fields)) continue;
      if (input.type === "checkbox") {
        input.checked = fields[input.name] === "on";
        input.dataset.was = input.checked ? "on" : ""; // what runs, so an edit can turn it off
      } else input.value = fields[input.name];
    }
  }
  function editService(svc) {
    serviceEdit = svc.form;
    const form = $("service-form");
    form.reset();
    fillForm(form, svc.form);
    form.dataset.action = "edit-service";
    $("svc-kind").disabled = true;
    $("svc-service").readOnly = true;
    $("service-legend").textContent = "Edit virtual service " + svc.label;
    $("service-submit").textContent = "Save service";
    $("service-cancel").hidden = false;
    $("svc-scheduler").focus();
  }
  function resetServiceForm() {
    serviceEdit = null;
    const form = $("service-form");
    form.reset();
    form.dataset.action = "add-service";
    $("svc-kind").disabled = false;
    $("svc-service").readOnly = false;
    $("service-legend").textContent = "Add a virtual service";
    $("service-submit").textContent = "Add service";
    $("service-cancel").hidden = true;
  }
  function editServer(svc, rs) {
    serverEdit = rs.form;
    const form = $("server-form");
    form.reset();
    $("rs-service-select").value = svc.form.kind + " " + svc.form.service;
    fillForm(form, rs.form);
    form.dataset.action = "edit-server";
    $("rs-service-select").disabled = true;
    $("rs-server").readOnly = true;
    $("server-legend").textContent = "Edit real server " + rs.form.server + " of " + svc.label;
    $("server-submit").textContent = "Save real server";
    $("server-cancel").hidden = false;
    $("rs-weight").focus();
  }
  function resetServerForm() {
    serverEdit = null;
    const form = $("server-form");
    form.reset();
    form.dataset.action = "add-server";
    $("rs-service-select").disabled = false;
    $("rs-server").readOnly = false;
    $("server-legend").textContent = "Add a real server";
    $("server-submit").textContent = "Add real server";
    $("server-cancel").hidden = true;
  }
  function formFields(form) {
    const f = { action: form.dataset.action };
    for (const input of form.elements) {
      if (!input.name) continue;
      // An unticked box is sent (as "") only on an edit of something that had it on: jvsadm -E
      // keeps what a command does not name, so untouched boxes add nothing to the command.
      if (input.type === "checkbox") {
        if (input.checked) f[input.name] = "on";
        else if (form.dataset.action.startsWith("edit") && input.dataset.was === "on") f[input.name] = "";
      } else f[input.name] = input.value;
    }
    return f;
  }
  $("service-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = formFields($("service-form"));
    if (serviceEdit) { f.kind = serviceEdit.kind; f.service = serviceEdit.service; f.ipv6 = serviceEdit.ipv6; }
    const answer = await change(f);
    if (answer.accepted) resetServiceForm();
  });
  $("service-cancel").addEventListener("click", resetServiceForm);
  $("server-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = formFields($("server-form"));
    const key = $("rs-service-select").value;
    const space = key.indexOf(" ");
    f.kind = key.substring(0, space);
    f.service = key.substring(space + 1);
    delete f["service-key"];
    const answer = await change(f);
    if (answer.accepted) resetServerForm();
  });
  $("server-cancel").addEventListener("click", resetServerForm);

  // ------------------------------------------------------------ HA and audit
  function drawCluster() {
    const box = $("cluster");
    box.replaceChildren();
    if (state.cluster.length === 0) {
      box.appendChild(el("p", "Not configured in this director."));
      return;
    }
    const t = el("table");
    const head = el("tr");
    for (const h of ["Component", "Name", "State", "Detail"]) { const th = el("th", h); th.scope = "col"; head.appendChild(th); }
    t.appendChild(head);
    for (const i of state.cluster) {
      const tr = el("tr");
      for (const v of [i.component, i.name, i.state, i.detail]) tr.appendChild(el("td", v));
      t.appendChild(tr);
    }
    box.appendChild(t);
  }
  function drawAudit(audit) {
    const tbody = $("audit").tBodies[0];
    tbody.replaceChildren();
    for (const e of audit.entries) {
      const tr = el("tr");
      tr.appendChild(el("td", e.seq, "num"));
      tr.appendChild(el("td", e.time));
      tr.appendChild(el("td", e.peer));
      tr.appendChild(el("td", e.command));
      tr.appendChild(el("td", e.accepted ? "accepted" : "refused (" + e.status + "): " + e.outcome,
        e.accepted ? "accepted" : "refused"));
      tbody.appendChild(tr);
    }
  }

  let refreshing = false;
  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const r = await fetch("/api/console", { credentials: "same-origin", cache: "no-store" });
      state = await r.json();
      if (state.csrf) csrf = state.csrf; else if (!state.loggedIn) csrf = "";
      drawServices();
      drawCluster();
      drawAccess();
      const a = await fetch("/api/audit", { cache: "no-store" });
      drawAudit(await a.json());
      document.body.dataset.ready = "true";
    } catch (e) {
      $("access-state").textContent = "Cannot reach the director: " + e;
    } finally {
      refreshing = false;
    }
  }
  refresh();
  setInterval(refresh, 1000);
})();
