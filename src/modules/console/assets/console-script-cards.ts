/**
 * Second half of the console's browser script: one card per node with its uPlot charts, its
 * actions and its dead letters, and the token form. Joined to the first half in one file.
 */
export const CONSOLE_SCRIPT_CARDS = String.raw`
var ACTIONS = [['pause', 'Pause'], ['resume', 'Resume'], ['replay', 'Replay now'], ['purge', 'Purge…']];
function renderCard(n) {
  var card = document.querySelector('.card[data-node="' + CSS.escape(n.id) + '"]');
  if (!card) card = createCard(n);
  var badge = card.querySelector('.badge');
  badge.className = 'badge ' + stateOf(n);
  badge.textContent = stateOf(n);
  card.querySelector('.eta').textContent = 'time to empty: ' + fmtEta(n);
  card.querySelector('.url').textContent = (n.url || 'custom client') +
    (n.backoffMs > 0 ? ' · next retry in ≤ ' + (n.backoffMs < 10000 ? (n.backoffMs / 1000).toFixed(1) + 's' : fmtAge(n.backoffMs / 1000)) : '') +
    (n.lastSuccessAt ? ' · last delivery ' + fmtAge((Date.now() - Date.parse(n.lastSuccessAt)) / 1000) + ' ago' : '');
  var s = series[n.id];
  var c = charts[n.id];
  c.backlog.setData([s.t, s.entries, s.oldest]);
  c.rates.setData([s.t, s.hand, s.rep]);
  var holder = card.querySelector('[data-chart="backlog"]');
  holder.dataset.points = String(s.t.length);
  holder.dataset.last = String(s.entries.length ? s.entries[s.entries.length - 1] : 0);
  card.querySelector('[data-chart="rates"]').dataset.points = String(s.t.length);
  renderDead(card, n);
}

function chart(holder, titles, colors, dualAxis) {
  var width = Math.max(300, holder.clientWidth);
  var opts = {
    width: width, height: 150,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, a: { auto: true, range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } },
      b: { auto: true, range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
    series: [{}, { label: titles[0], stroke: colors[0], fill: colors[0] + '22', width: 2, scale: 'a', points: { show: false } },
      { label: titles[1], stroke: colors[1], width: 2, scale: dualAxis ? 'b' : 'a', points: { show: false } }],
    axes: [{}, { scale: 'a', size: 60 }].concat(dualAxis ? [{ scale: 'b', side: 1, size: 50, grid: { show: false } }] : []),
  };
  return new uPlot(opts, [[], [], []], holder);
}

function createCard(n) {
  var card = el('article', { class: 'card', 'data-node': n.id });
  var head = el('div', { class: 'head' });
  head.append(el('h2', {}, n.id), el('span', { class: 'badge' }), el('span', { class: 'eta' }));
  var actions = el('div', { class: 'actions' });
  ACTIONS.forEach(function (a) {
    var b = el('button', { type: 'button', 'data-action': a[0], class: a[0] === 'purge' ? 'danger' : '' }, a[1]);
    b.addEventListener('click', function () { a[0] === 'purge' ? askPurge(n.id) : act(n.id, a[0]); });
    actions.appendChild(b);
  });
  var backlog = el('div', { class: 'chart', 'data-chart': 'backlog' });
  var rates = el('div', { class: 'chart', 'data-chart': 'rates' });
  var dead = el('div', { class: 'dead', hidden: '' });
  var requeue = el('button', { type: 'button', 'data-action': 'requeue' }, 'Requeue all');
  requeue.addEventListener('click', function () { act(n.id, 'dead-letters/requeue'); });
  dead.append(el('h3', {}), requeue, el('table'));
  card.append(head, el('div', { class: 'url' }), actions,
    el('p', { class: 'chart-title' }, 'backlog (entries, left) and oldest entry age (s, right)'), backlog,
    el('p', { class: 'chart-title' }, 'hand-offs vs replays (entries/s)'), rates, dead);
  $('cards').appendChild(card);
  charts[n.id] = {
    backlog: chart(backlog, ['backlog entries', 'oldest age s'], ['#1f6feb', '#b35900'], true),
    rates: chart(rates, ['hand-off/s', 'replay/s'], ['#c62828', '#1a7f37'], false),
  };
  if (latest) renderAccess(latest.access, false);
  return card;
}

function renderDead(card, n) {
  var box = card.querySelector('.dead');
  if (n.deadLetters === 0) { box.hidden = true; deadShown[n.id] = 0; return; }
  box.hidden = false;
  box.querySelector('h3').textContent = 'Dead letters (' + fmtInt(n.deadLetters) + ')';
  if (deadShown[n.id] === n.deadLetters) return;
  deadShown[n.id] = n.deadLetters;
  fetch(base + '/api/nodes/' + encodeURIComponent(n.id) + '/dead-letters?limit=50', { headers: headers() })
    .then(function (res) { return res.ok ? res.json() : Promise.reject(new Error('answered ' + res.status)); })
    .then(function (d) {
      var table = box.querySelector('table');
      table.replaceChildren();
      var head = el('tr');
      ['#', 'refused at', 'size', 'status', "node's error"].forEach(function (h) { head.appendChild(el('th', {}, h)); });
      table.appendChild(head);
      d.entries.forEach(function (l) {
        var tr = el('tr', { 'data-letter': String(l.index) });
        tr.append(el('td', {}, String(l.index)), el('td', {}, new Date(l.at).toLocaleString()),
          el('td', {}, fmtBytes(l.size)), el('td', {}, l.status ? String(l.status) : '–'),
          el('td', { class: 'err' }, (l.damaged ? '[damaged record] ' : '') + l.error));
        table.appendChild(tr);
      });
      if (d.count > d.entries.length) {
        table.appendChild(el('tr')).appendChild(el('td', { colspan: '5', class: 'muted' }, '… and ' + fmtInt(d.count - d.entries.length) + ' more'));
      }
    })
    .catch(function (err) { deadShown[n.id] = -1; toast('dead letters of ' + n.id + ': ' + err.message, true); });
}

function act(id, action) {
  var url = base + '/api/nodes/' + encodeURIComponent(id) + '/' + action;
  return fetch(url, { method: 'POST', headers: headers() }).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (body) {
      if (!res.ok) throw new Error(body.error || ('answered ' + res.status));
      var done = action === 'dead-letters/requeue' ? 'requeued ' + fmtInt(body.requeued) + ' dead letters of ' + id
        : action.indexOf('purge') === 0 ? 'purged ' + fmtInt(body.entries) + ' entries (' + fmtBytes(body.bytes) + ') of ' + id
        : action === 'replay' ? 'replayed ' + fmtBytes(body.bytes) + ' to ' + id
        : id + ' ' + (action === 'pause' ? 'paused' : 'resumed');
      toast(done, false);
      deadShown[id] = undefined;
    });
  }).catch(function (err) { toast(id + ': ' + err.message, true); }).then(function () { schedule(0); });
}

function askPurge(id) {
  var n = latest && latest.nodes.find(function (x) { return x.id === id; });
  if (!n) return;
  $('purge-text').textContent = 'Purge node "' + id + '"? This drops its whole backlog: ' +
    fmtInt(n.backlog.entries) + ' entries (' + fmtBytes(n.backlog.bytes) + ') right now, and whatever ' +
    'is handed off before the purge runs. They will never be delivered. Dead letters are kept.';
  var dialog = $('purge-dialog');
  dialog.dataset.purgeNode = id;
  dialog.returnValue = '';
  dialog.showModal();
}
$('purge-dialog').addEventListener('close', function () {
  var dialog = $('purge-dialog');
  if (dialog.returnValue === 'purge') act(dialog.dataset.purgeNode, 'purge?confirm=true');
});

$('token-form').addEventListener('submit', function (e) {
  e.preventDefault();
  var input = $('token-input');
  token = input.value.trim();
  input.value = '';
  if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  deadShown = {};
  schedule(0);
});
$('token-forget').addEventListener('click', function () {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  schedule(0);
});
window.addEventListener('resize', function () {
  Object.keys(charts).forEach(function (id) {
    ['backlog', 'rates'].forEach(function (k) {
      var holder = document.querySelector('.card[data-node="' + CSS.escape(id) + '"] [data-chart="' + k + '"]');
      if (holder) charts[id][k].setSize({ width: Math.max(300, holder.clientWidth), height: 150 });
    });
  });
});
poll();
})();
`;
