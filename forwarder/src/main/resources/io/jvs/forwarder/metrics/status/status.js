// jvs status page: polls /api/status and redraws in place. Read-only.
// Every name is written with textContent (never as markup), so nothing the
// director reports can become HTML.
"use strict";

const POLL_MS = 2000;
let previous = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, cls) {
  const tr = el("tr", null, cls);
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", c));
  return tr;
}

// Counters as ipvsadm prints them: exact up to 8 digits, scaled beyond.
function count(n) {
  if (n === null || n === undefined) return "";
  return n < 1e8 ? String(n) : human(n);
}

// Rates: 1234567 -> "1.23M".
function human(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "";
  const units = ["", "K", "M", "G", "T"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (i === 0 ? (Number.isInteger(v) ? v.toString() : v.toFixed(1)) : v.toFixed(2)) + units[i];
}

// Per-second rate of a counter between the previous poll and this one.
function rate(now, before, seconds) {
  if (before === undefined || seconds <= 0) return null;
  return Math.max(0, now - before) / seconds;
}

function state(rs) {
  if (rs.up === false) return "down";
  if (rs.weight === 0) return "quiesced";
  if (rs.overloaded) return "overloaded";
  return "available";
}

function index(status) {
  const m = new Map();
  for (const s of status.services) {
    m.set("s " + s.name, s);
    for (const r of s.realServers) m.set("r " + s.name + " " + r.address, r);
  }
  return m;
}

function render(status) {
  const prev = previous ? index(previous) : new Map();
  const seconds = previous ? (status.uptimeMillis - previous.uptimeMillis) / 1000 : 0;
  const services = document.getElementById("services");
  const table = el("table");
  table.id = "service-table";
  const head = el("thead");
  head.appendChild(row(["Service / real server", "Scheduler / forward", "Weight", "State", "ActiveConn",
    "InActConn", "Conns", "CPS", "InPkts/s", "OutPkts/s", "InBytes/s", "OutBytes/s"].map(h => el("th", h))));
  table.appendChild(head);
  const body = el("tbody");
  for (const s of status.services) {
    const ps = prev.get("s " + s.name) || {};
    let active = 0, inactive = 0;
    for (const r of s.realServers) { active += r.active; inactive += r.inactive; }
    const sched = s.scheduler + (s.flags ? " (" + s.flags + ")" : "");
    const tr = row([el("td", s.name, "name"), sched, "", "", count(active), count(inactive), count(s.conns),
      human(rate(s.conns, ps.conns, seconds)), human(rate(s.inPkts, ps.inPkts, seconds)),
      human(rate(s.outPkts, ps.outPkts, seconds)), human(rate(s.inBytes, ps.inBytes, seconds)),
      human(rate(s.outBytes, ps.outBytes, seconds))], "service");
    tr.dataset.service = s.name;
    body.appendChild(tr);
    for (const r of s.realServers) {
      const pr = prev.get("r " + s.name + " " + r.address) || {};
      const st = state(r);
      const rtr = row([el("td", "\u2192 " + r.address, "name"), r.forward, r.weight,
        el("td", st + (r.up === null ? "" : " (checked)"), "state-" + st), r.active, r.inactive, count(r.conns),
        human(rate(r.conns, pr.conns, seconds)), human(rate(r.inPkts, pr.inPkts, seconds)),
        human(rate(r.outPkts, pr.outPkts, seconds)), human(rate(r.inBytes, pr.inBytes, seconds)),
        human(rate(r.outBytes, pr.outBytes, seconds))], "real-server");
      rtr.dataset.service = s.name;
      rtr.dataset.realServer = r.address;
      body.appendChild(rtr);
    }
  }
  table.appendChild(body);
  services.replaceChildren(el("h2", "Virtual services"), table);

  const vrrp = status.vrrp || [];
  document.getElementById("vrrp").hidden = vrrp.length === 0;
  document.querySelector("#vrrp tbody").replaceChildren(...vrrp.map(v =>
    row([el("td", v.instance, "name"), el("td", v.state, "state-" + v.state.toLowerCase()), v.interface, v.vrid,
      v.version, v.priority, v.master, v.addresses.join(", "), count(v.transitions), count(v.advertsSent),
      count(v.advertsReceived)])));

  const ports = document.querySelector("#datapath tbody");
  const prevPorts = new Map((previous ? previous.ports : []).map(p => [p.name, p]));
  ports.replaceChildren(...status.ports.map(p => {
    const pp = prevPorts.get(p.name) || {};
    return row([el("td", p.name, "name"), count(p.rxFrames), human(rate(p.rxFrames, pp.rxFrames, seconds)),
      count(p.txFrames), human(rate(p.txFrames, pp.txFrames, seconds)), count(p.kernelDrops)]);
  }));

  const drops = document.querySelector("#drops tbody");
  const prevDrops = previous ? previous.drops : {};
  drops.replaceChildren(...Object.keys(status.drops).filter(k => status.drops[k] > 0).map(k =>
    row([el("td", k, "name"), count(status.drops[k]), human(rate(status.drops[k], prevDrops[k], seconds))])));

  const busy = previous && seconds > 0
    ? " \u00b7 event loop " + (100 * (status.eventLoopBusyNanos - previous.eventLoopBusyNanos) / 1e9 / seconds).toFixed(1) + "% busy"
    : "";
  document.getElementById("summary").textContent = status.services.length + " service(s) \u00b7 connections "
    + status.connectionTable.entries + " / " + status.connectionTable.capacity
    + " \u00b7 neighbours " + status.neighbourEntries + busy
    + " \u00b7 up " + Math.floor(status.uptimeMillis / 1000) + " s";
  previous = status;
}

async function poll() {
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "status unavailable: " + e.message;
  }
}

document.getElementById("interval").textContent = String(POLL_MS / 1000);
poll();
setInterval(poll, POLL_MS);
