/**
 * The status page's own files (docs/design/status-page.md): one HTML shell, its stylesheet and its
 * script, served by StatusController with a Content-Security-Policy that allows scripts, styles and
 * requests from this origin only. The script reads `/federation`, `/findings` and `/status/history`
 * and renders with textContent only: nothing a database holds is ever parsed as HTML.
 */

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CryptoMesh Portal status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/status/uplot.css">
<link rel="stylesheet" href="/status/app.css">
</head>
<body>
<header>
  <h1>CryptoMesh Portal <span id="portal-id">…</span></h1>
  <div id="verdict" class="verdict unknown" role="status" aria-live="polite">
    <strong id="verdict-title">Loading…</strong>
    <ul id="verdict-reasons"></ul>
  </div>
</header>
<main>
  <section>
    <h2>Portals of the federation</h2>
    <table id="portals">
      <thead><tr>
        <th>Portal</th><th>Log head</th><th>Last seal</th><th>Replication lag</th>
        <th>Cosignatures<br><small>given / received</small></th><th>Open findings</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="outside-witnesses-section" hidden>
    <h2>Outside witnesses <small>(C2SP tlog-witness)</small></h2>
    <table id="outside-witnesses">
      <thead><tr><th>Witness</th><th>Cosigned</th><th>Last cosignature</th><th>Failures</th><th>Last error</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="charts">
    <div><h2>Throughput <small>(entries sealed per minute, last hour)</small></h2><div id="chart-throughput" class="chart"></div></div>
    <div><h2>Replication lag <small>(seconds from seal to verified mirror, worst per minute)</small></h2><div id="chart-lag" class="chart"></div></div>
  </section>
  <section>
    <h2>Open findings <small id="findings-count"></small></h2>
    <p id="no-findings" class="quiet">None.</p>
    <table id="findings">
      <thead><tr><th>Kind</th><th>Against</th><th>Part</th><th>What</th><th>Reported by</th><th>Observed</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<footer><span id="updated">Not updated yet.</span> Refreshes every 5 s. JSON: <a href="/federation">/federation</a> · <a href="/findings">/findings</a> · <a href="/status/history">/status/history</a> · <a href="/metrics">/metrics</a></footer>
<script src="/status/uplot.js"></script>
<script src="/status/app.js"></script>
</body>
</html>
`;

export const STATUS_CSS = `
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 12px 20px; }
h1 { font-size: 22px; margin: 8px 0 12px; }
h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 16px; margin: 20px 0 8px; }
h2 small, th small { color: var(--muted); font-weight: 400; }
.verdict { border-radius: 8px; padding: 10px 14px; color: #fff; }
.verdict strong { font-size: 18px; }
.verdict ul { margin: 4px 0 0; padding-left: 20px; }
.verdict.ok { background: var(--ok); } .verdict.warn { background: var(--warn); }
.verdict.bad { background: var(--bad); } .verdict.unknown { background: var(--muted); }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
.state { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; }
.state.ok { background: var(--ok); } .state.warn { background: var(--warn); } .state.bad { background: var(--bad); }
.ok-text { color: var(--ok); } .warn-text { color: var(--warn); } .bad-text { color: var(--bad); font-weight: 600; }
.self-tag { color: var(--muted); font-size: 12px; margin-left: 4px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px; min-height: 240px; }
.quiet { color: var(--muted); }
button.evidence { font: inherit; cursor: pointer; border: 1px solid var(--line); background: #fff; border-radius: 4px; padding: 2px 8px; }
pre.evidence { margin: 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; background: #f6f8fa; padding: 8px; max-height: 360px; overflow: auto; }
footer { color: var(--muted); }
@media (max-width: 800px) { .charts { grid-template-columns: 1fr; } }
`;

export const STATUS_JS = `'use strict';
(function () {
  var REFRESH_MS = 5000;
  /** A peer whose newest seal is older than this is stale (the replication default STALE_AFTER_MS). */
  var STALE_S = 180;
  /** Replication lag above this is a warning. */
  var LAG_WARN_S = 10;
  var SERIES_COLOURS = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#9a6700', '#cf222e', '#57606a'];
  var charts = {};
  var opened = {};
  var lastUpdate = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function age(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return '—';
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s ago';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  }
  function seconds(value) {
    if (value === null || value === undefined) return '—';
    return value < 10 ? value.toFixed(1) + ' s' : Math.round(value) + ' s';
  }
  function getJson(path) {
    return fetch(path, { headers: { accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error(path + ' answered ' + r.status);
      return r.json();
    });
  }
  function stateCell(state, text) {
    return el('td', {}, [el('span', { className: 'state ' + state }), el('span', { text: text })]);
  }

  function judge(federation, findings, history, now) {
    var reasons = [];
    var worst = 'ok';
    function raise(level, reason) {
      reasons.push(reason);
      if (level === 'bad' || worst === 'ok') worst = level === 'bad' ? 'bad' : 'warn';
    }
    var selfHead = history.self.head;
    if (!selfHead) raise('warn', 'this portal has sealed nothing yet');
    else if ((now - selfHead.timeMs) / 1000 > STALE_S) raise('bad', 'this portal has not sealed for ' + age((now - selfHead.timeMs) / 1000).replace(' ago', ''));
    if (history.self.pushback) raise('bad', 'the gateway refuses changes (503): ' + history.self.pushback);
    federation.peers.forEach(function (p) {
      if (!p.configured) return;
      if (!p.head) raise('warn', p.id + ': nothing mirrored yet');
      else if (p.lagMs / 1000 > STALE_S) raise('bad', p.id + ': stale, newest seal ' + age(p.lagMs / 1000));
      else if (p.lagMs / 1000 > LAG_WARN_S) raise('warn', p.id + ': replication lag ' + seconds(p.lagMs / 1000));
    });
    (federation.outsideWitnesses || []).forEach(function (w) {
      if (w.configured && w.failures > 0) raise('warn', 'outside witness ' + w.name + ': ' + w.failures + ' failure' + (w.failures > 1 ? 's' : '') + ', ' + (w.lastError || ''));
    });
    var bySubject = {};
    // A peer's claim this portal could not verify is shown, never counted (DESIGN.md invariant 7).
    findings.forEach(function (f) { if (f.verified !== false) bySubject[f.subject] = (bySubject[f.subject] || 0) + 1; });
    Object.keys(bySubject).forEach(function (s) {
      raise('bad', bySubject[s] + ' open finding' + (bySubject[s] > 1 ? 's' : '') + ' against ' + s);
    });
    return { level: worst, reasons: reasons };
  }

  function renderVerdict(verdict) {
    var box = document.getElementById('verdict');
    box.className = 'verdict ' + verdict.level;
    document.getElementById('verdict-title').textContent =
      verdict.level === 'ok' ? 'All healthy' : verdict.level === 'warn' ? 'Degraded' : 'Action needed';
    var list = document.getElementById('verdict-reasons');
    list.replaceChildren.apply(list, verdict.reasons.map(function (r) { return el('li', { text: r }); }));
  }

  function renderPortals(federation, findings, history, now) {
    var selfId = federation.portal.id || 'this portal';
    var open = {};
    findings.forEach(function (f) { if (f.verified !== false) open[f.subject] = (open[f.subject] || 0) + 1; });
    var received = 0, given = 0;
    federation.peers.forEach(function (p) { received += p.cosignatures.received; given += p.cosignatures.given; });
    var head = history.self.head;
    var selfAge = head ? (now - head.timeMs) / 1000 : null;
    var rows = [el('tr', { 'data-portal': selfId }, [
      el('td', {}, [el('strong', { text: selfId }), el('span', { className: 'self-tag', text: '(this portal)' })]),
      el('td', { className: 'num head', text: head ? head.size + ' entries · part ' + head.part : '—' }),
      stateCell(selfAge === null ? 'warn' : selfAge > STALE_S ? 'bad' : 'ok', age(selfAge)),
      el('td', { className: 'num', text: '—' }),
      el('td', { className: 'num cosignatures', text: given + ' / ' + received }),
      el('td', { className: 'num ' + (open[selfId] ? 'bad-text' : 'ok-text'), text: String(open[selfId] || 0) })
    ])];
    federation.peers.forEach(function (p) {
      var lag = p.head ? p.lagMs / 1000 : null;
      var state = lag === null ? 'warn' : lag > STALE_S ? 'bad' : lag > LAG_WARN_S ? 'warn' : 'ok';
      rows.push(el('tr', { 'data-portal': p.id }, [
        el('td', {}, [el('strong', { text: p.id }), p.configured ? null : el('span', { className: 'self-tag', text: '(no longer configured)' })]),
        el('td', { className: 'num head', text: p.head ? p.head.size + ' entries · part ' + p.head.part : '—' }),
        stateCell(state, p.head ? age(lag) : 'never'),
        el('td', { className: 'num lag', text: seconds(lag) }),
        el('td', { className: 'num cosignatures', text: p.cosignatures.given + ' / ' + p.cosignatures.received }),
        el('td', { className: 'num ' + ((p.openFindings || open[p.id]) ? 'bad-text' : 'ok-text'), text: String(p.openFindings || 0) })
      ]));
    });
    var body = document.querySelector('#portals tbody');
    body.replaceChildren.apply(body, rows);
  }

  function renderOutsideWitnesses(federation, now) {
    var witnesses = (federation.outsideWitnesses || []).filter(function (w) { return w.configured; });
    document.getElementById('outside-witnesses-section').hidden = witnesses.length === 0;
    var rows = witnesses.map(function (w) {
      var since = w.cosignedAt ? (now - Date.parse(w.cosignedAt)) / 1000 : null;
      return el('tr', { 'data-witness': w.name }, [
        el('td', {}, [el('strong', { text: w.name })]),
        el('td', { className: 'num', text: w.part === null ? '—' : w.size + ' entries · part ' + w.part }),
        stateCell(w.failures > 0 ? 'warn' : since === null ? 'warn' : 'ok', since === null ? 'never' : age(since)),
        el('td', { className: 'num ' + (w.failures > 0 ? 'bad-text' : 'ok-text'), text: String(w.failures) }),
        el('td', { text: w.lastError || '' })
      ]);
    });
    var body = document.querySelector('#outside-witnesses tbody');
    body.replaceChildren.apply(body, rows);
  }

  function renderFindings(findings) {
    document.getElementById('no-findings').hidden = findings.length > 0;
    document.getElementById('findings').hidden = findings.length === 0;
    document.getElementById('findings-count').textContent = findings.length ? '(' + findings.length + ')' : '';
    var rows = [];
    findings.forEach(function (f) {
      var button = el('button', { className: 'evidence', type: 'button', text: opened[f.id] ? 'Hide evidence' : 'Evidence', 'data-finding': f.id });
      button.addEventListener('click', function () { opened[f.id] = !opened[f.id]; renderFindings(findings); });
      rows.push(el('tr', { className: 'finding', 'data-finding': f.id }, [
        el('td', { className: f.verified === false ? 'warn-text claim' : 'bad-text', text: f.verified === false ? f.kind + ' (unverified claim)' : f.kind }),
        el('td', { text: f.subject }),
        el('td', { className: 'num', text: f.part === null ? '—' : String(f.part) }),
        el('td', { text: f.detail }),
        el('td', { text: f.reporter }),
        el('td', { text: typeof f.observedAt === 'number' ? age((Date.now() - f.observedAt) / 1000) : '—' }),
        el('td', {}, [button])
      ]));
      if (opened[f.id]) {
        rows.push(el('tr', { className: 'evidence-row' }, [
          el('td', { colspan: '7' }, [el('pre', { className: 'evidence', text: JSON.stringify(f, null, 2) })])
        ]));
      }
    });
    var body = document.querySelector('#findings tbody');
    body.replaceChildren.apply(body, rows);
  }

  function drawChart(id, title, xs, series, unit) {
    var host = document.getElementById(id);
    var names = Object.keys(series);
    var data = [xs.map(function (x) { return x / 1000; })].concat(names.map(function (n) { return series[n]; }));
    var key = names.join('|');
    var width = Math.max(280, host.clientWidth - 12);
    if (charts[id] && charts[id].key === key) {
      charts[id].plot.setData(data);
      if (charts[id].width !== width) { charts[id].plot.setSize({ width: width, height: 220 }); charts[id].width = width; }
      return;
    }
    if (charts[id]) charts[id].plot.destroy();
    var opts = {
      width: width, height: 220, title: '',
      scales: { x: { time: true } },
      axes: [{}, { label: unit }],
      series: [{}].concat(names.map(function (n, i) {
        return { label: n, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], width: 2, spanGaps: false, points: { show: false } };
      }))
    };
    charts[id] = { key: key, width: width, plot: new uPlot(opts, data, host) };
  }

  function refresh() {
    return Promise.all([getJson('/federation'), getJson('/findings?status=open&limit=100'), getJson('/status/history?minutes=60')])
      .then(function (answers) {
        var federation = answers[0], findings = answers[1].findings, history = answers[2];
        var now = history.now;
        document.getElementById('portal-id').textContent = federation.portal.id || '';
        document.title = (federation.portal.id || 'CryptoMesh Portal') + ' · status';
        renderVerdict(judge(federation, findings, history, now));
        renderPortals(federation, findings, history, now);
        renderOutsideWitnesses(federation, now);
        renderFindings(findings);
        // "Every peer's log verified" only when there are peers (issue #16).
        document.getElementById('no-findings').textContent = federation.peers.length === 0
          ? "None. This portal has no peers: there is no other portal's log to verify."
          : "None: every peer's log verified.";
        var throughput = {};
        Object.keys(history.throughput).forEach(function (log) {
          throughput[log === 'self' ? (federation.portal.id || 'self') : log] = history.throughput[log];
        });
        drawChart('chart-throughput', 'Throughput', history.buckets, throughput, 'entries / min');
        var lag = {};
        Object.keys(history.lag).forEach(function (peer) { lag[peer] = history.lag[peer].max; });
        drawChart('chart-lag', 'Replication lag', history.buckets, lag, 'seconds');
        lastUpdate = Date.now();
        document.body.setAttribute('data-refreshed', String(lastUpdate));
      })
      .catch(function (error) {
        renderVerdict({ level: 'bad', reasons: ['this page cannot read the query service: ' + error.message] });
      });
  }

  setInterval(function () {
    document.getElementById('updated').textContent = lastUpdate ? 'Updated ' + age((Date.now() - lastUpdate) / 1000) + '.' : 'Not updated yet.';
  }, 1000);
  refresh().then(function () { setInterval(refresh, REFRESH_MS); });
})();
`;
