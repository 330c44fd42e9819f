import { CONSOLE_SCRIPT_CARDS } from './console-script-cards';

/**
 * The console's browser script (served as /assets/console.js): plain ES2020, no build step. It
 * polls `<base>/api/overview` every second (polling rather than server-sent events, because
 * EventSource cannot send an Authorization header and a token must never go in a URL), keeps
 * the samples for the charts, and sends actions with the token from sessionStorage.
 */
export const CONSOLE_SCRIPT =
  String.raw`(function () {
'use strict';
var base = document.body.dataset.base;
var TOKEN_KEY = 'hh-console-token';
var MAX_POINTS = 3600;
var token = sessionStorage.getItem(TOKEN_KEY) || '';
var since = 0;
var latest = null;
var series = {};
var charts = {};
var deadShown = {};
var pollTimer = 0;
var $ = function (id) { return document.getElementById(id); };

function el(tag, attrs, text) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmtInt(n) { return Math.round(n).toLocaleString('en-US'); }
function fmtBytes(n) {
  var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  var i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
}
function fmtAge(s) {
  if (s === null || s === undefined) return '–';
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}
function fmtRate(r) { return r < 10 ? r.toFixed(1) : fmtInt(r); }
function fmtEta(n) {
  if (n.backlog.entries === 0) return 'empty';
  if (n.etaSeconds === null) return n.state === 'paused' ? 'paused' : 'not draining';
  return '~' + fmtAge(n.etaSeconds);
}
function stateOf(n) { return !n.open || n.state === 'failed' ? 'failed' : n.state; }
function pct(r) { return (r * 100).toFixed(r < 0.1 ? 2 : 1) + '%'; }

function headers() {
  return token ? { Authorization: 'Bearer ' + token } : {};
}
function toast(text, isError) {
  var t = $('toast');
  t.textContent = text;
  t.className = 'toast' + (isError ? ' error' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(function () { t.hidden = true; }, 4000);
}
function statusLine(text, isError) {
  var s = $('status-line');
  s.textContent = text;
  s.className = 'status-line' + (isError ? ' error' : '');
}

function schedule(ms) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, ms);
}
function poll() {
  var url = base + '/api/overview' + (since ? '?since=' + since : '');
  fetch(url, { headers: headers(), cache: 'no-store' }).then(function (res) {
    if (res.status === 401) {
      statusLine('This relay needs a token to show its queues: enter HH_AUTH_TOKEN or HH_ADMIN_TOKEN above.', true);
      renderAccess({ canAct: false, actionsNeedToken: true }, true);
      schedule(2000);
      return;
    }
    if (!res.ok) throw new Error('overview answered ' + res.status);
    return res.json().then(function (o) {
      update(o);
      schedule(o.sampleIntervalMs || 1000);
    });
  }).catch(function (err) {
    statusLine('Relay not answering (' + err.message + '); retrying…', true);
    schedule(2000);
  });
}

function update(o) {
  latest = o;
  renderAccess(o.access, false);
  renderHealth(o.relay, o.nodes);
  var ids = {};
  o.nodes.forEach(function (n) {
    ids[n.id] = true;
    var s = series[n.id] || (series[n.id] = { t: [], entries: [], oldest: [], hand: [], rep: [] });
    n.history.forEach(function (h) {
      s.t.push(h.t / 1000); s.entries.push(h.entries); s.oldest.push(h.oldestAgeSeconds);
      s.hand.push(h.handoffRate); s.rep.push(h.replayRate);
      since = Math.max(since, h.t);
    });
    if (s.t.length > MAX_POINTS) for (var k in s) s[k].splice(0, s[k].length - MAX_POINTS);
    renderRow(n, o.relay.maxSize);
    renderCard(n);
  });
  document.querySelectorAll('tr[data-node], .card[data-node]').forEach(function (e) {
    var id = e.dataset.node;
    if (ids[id]) return;
    e.remove();
    if (charts[id]) { charts[id].backlog.destroy(); charts[id].rates.destroy(); delete charts[id]; }
    delete series[id];
  });
  var total = o.nodes.reduce(function (a, n) { return a + n.backlog.entries; }, 0);
  statusLine(o.nodes.length + ' node' + (o.nodes.length === 1 ? '' : 's') + ', ' + fmtInt(total) +
    ' entries queued · updated ' + new Date(o.now).toLocaleTimeString(), false);
}

function renderAccess(access, unreadable) {
  var a = $('access-state');
  a.className = 'access' + (access.canAct ? ' can' : '');
  a.textContent = access.canAct ? 'actions enabled'
    : unreadable ? 'token needed'
    : access.actionsNeedToken ? 'read-only: enter the admin token to act'
    : 'read-only: no token configured, actions only from the relay host';
  $('token-forget').hidden = !token;
  $('token-input').placeholder = token ? 'token set (this tab)' : 'admin token';
  document.querySelectorAll('button[data-action]').forEach(function (b) {
    b.disabled = !access.canAct;
    b.title = access.canAct ? '' : a.textContent;
  });
}

function meter(ratio, warnAt) {
  var m = el('span', { class: 'meter' });
  var bar = el('i', { class: ratio >= warnAt ? 'bad' : ratio >= warnAt * 0.8 ? 'warn' : '' });
  bar.style.width = Math.min(100, ratio * 100).toFixed(1) + '%';
  m.appendChild(bar);
  return m;
}
function renderHealth(relay, nodes) {
  var h = $('relay-health');
  h.textContent = '';
  var disk = el('span', { id: 'disk-health' });
  if (relay.disk) {
    disk.append('disk of ' + relay.dataDir + ': ', meter(relay.disk.usedRatio, relay.healthDiskThreshold),
      pct(relay.disk.usedRatio) + ' used, ' + fmtBytes(relay.disk.freeBytes) + ' free of ' +
      fmtBytes(relay.disk.totalBytes));
  } else {
    disk.textContent = 'disk of ' + relay.dataDir + ': ' + (relay.diskError || 'not measured yet');
  }
  var fullest = nodes.reduce(function (a, n) { return !a || n.diskBytes > a.diskBytes ? n : a; }, null);
  var queue = el('span', { id: 'queue-health' });
  var ratio = fullest ? fullest.diskBytes / relay.maxSize : 0;
  queue.append('fullest queue: ', meter(ratio, 0.9), (fullest ? fullest.id + ' ' : '') + pct(ratio) +
    ' of HH_MAX_SIZE ' + fmtBytes(relay.maxSize));
  h.append(disk, queue);
}

var COLUMNS = ['id', 'state', 'entries', 'bytes', 'oldest', 'handoff', 'replay', 'eta', 'dead', 'full', 'error'];
var NUMERIC = { entries: 1, bytes: 1, oldest: 1, handoff: 1, replay: 1, eta: 1, dead: 1, full: 1 };
function renderRow(n, maxSize) {
  var body = document.querySelector('#nodes tbody');
  var row = body.querySelector('tr[data-node="' + CSS.escape(n.id) + '"]');
  if (!row) {
    row = el('tr', { 'data-node': n.id });
    COLUMNS.forEach(function (c) {
      row.appendChild(el('td', { 'data-field': c, class: c === 'error' ? 'error' : NUMERIC[c] ? 'num' : '' }));
    });
    row.addEventListener('click', function () {
      var card = document.querySelector('.card[data-node="' + CSS.escape(n.id) + '"]');
      if (card) card.scrollIntoView({ behavior: 'smooth' });
    });
    body.appendChild(row);
  }
  var cell = function (c) { return row.querySelector('[data-field="' + c + '"]'); };
  cell('id').textContent = n.id;
  cell('state').replaceChildren(el('span', { class: 'badge ' + stateOf(n) }, stateOf(n)));
  cell('entries').textContent = fmtInt(n.backlog.entries);
  cell('bytes').textContent = fmtBytes(n.backlog.bytes);
  cell('oldest').textContent = fmtAge(n.backlog.oldestAgeSeconds);
  cell('handoff').textContent = fmtRate(n.rates.handoff);
  cell('replay').textContent = fmtRate(n.rates.replay);
  cell('eta').textContent = fmtEta(n);
  cell('dead').textContent = fmtInt(n.deadLetters);
  cell('full').textContent = pct(n.diskBytes / maxSize);
  cell('error').textContent = n.lastError
    ? n.lastError + (n.lastErrorAt ? ' (' + fmtAge((Date.now() - Date.parse(n.lastErrorAt)) / 1000) + ' ago)' : '')
    : '';
}
` + CONSOLE_SCRIPT_CARDS;
