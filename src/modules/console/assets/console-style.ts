/** The console's style sheet (served as /assets/console.css). */
export const CONSOLE_STYLE = String.raw`
:root { --bg:#f6f7f9; --fg:#1d2430; --muted:#677189; --line:#dde1e8; --card:#fff;
  --up:#1a7f37; --backoff:#b35900; --paused:#5b5fc7; --failed:#c62828; --inactive:#8a8f98; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; flex-wrap:wrap; gap:12px 24px; align-items:center; padding:10px 20px; background:#1d2430; color:#fff; }
header h1 { font-size:17px; margin:0; font-weight:600; }
.health { display:flex; gap:18px; flex-wrap:wrap; font-size:13px; flex:1; }
.health .meter { display:inline-block; width:90px; height:8px; background:#3a4356; border-radius:4px; vertical-align:middle; margin:0 6px; overflow:hidden; }
.health .meter i { display:block; height:100%; background:#4caf50; }
.health .meter i.warn { background:#ff9800; } .health .meter i.bad { background:#f44336; }
.token { display:flex; gap:6px; align-items:center; font-size:13px; }
.token input { padding:4px 6px; border-radius:4px; border:1px solid #56607a; background:#2a3242; color:#fff; width:150px; }
.access { color:#c8cfdc; }
.access.can { color:#8fe39b; }
main { padding:14px 20px 30px; }
.status-line { margin:0 0 8px; color:var(--muted); min-height:1.4em; }
.status-line.error { color:var(--failed); }
table.nodes { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); }
table.nodes th, table.nodes td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:left; white-space:nowrap; }
table.nodes th { font-size:12px; color:var(--muted); font-weight:600; background:#fafbfc; }
table.nodes td.num, table.nodes th.num { text-align:right; font-variant-numeric:tabular-nums; }
table.nodes td.error { white-space:normal; max-width:340px; color:var(--failed); font-size:12px; }
table.nodes tr { cursor:pointer; } table.nodes tbody tr:hover { background:#f0f3f8; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; }
.badge.up { background:var(--up); } .badge.backing-off { background:var(--backoff); }
.badge.paused { background:var(--paused); } .badge.failed { background:var(--failed); }
.badge.inactive { background:var(--inactive); }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:14px; margin-top:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:12px 14px; }
.card h2 { font-size:15px; margin:0 8px 0 0; display:inline; }
.card .head { display:flex; align-items:center; flex-wrap:wrap; gap:8px; }
.card .eta { margin-left:auto; color:var(--muted); font-size:13px; }
.card .url { color:var(--muted); font-size:12px; word-break:break-all; margin:2px 0 6px; }
.card .actions { display:flex; gap:6px; margin:6px 0 8px; flex-wrap:wrap; }
button { font:inherit; font-size:13px; padding:4px 10px; border-radius:4px; border:1px solid #b8c0cc; background:#fff; color:var(--fg); cursor:pointer; }
button:hover:not(:disabled) { background:#eef1f5; }
button:disabled { opacity:.45; cursor:not-allowed; }
button.danger { border-color:#d9a1a1; color:var(--failed); }
.chart-title { font-size:12px; color:var(--muted); margin:6px 0 0; }
.chart { min-height:150px; }
.dead { margin-top:8px; border-top:1px solid var(--line); padding-top:6px; }
.dead h3 { font-size:13px; margin:0 8px 4px 0; display:inline; }
.dead table { width:100%; border-collapse:collapse; font-size:12px; margin-top:4px; }
.dead td, .dead th { padding:3px 6px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
.dead td.err { color:var(--failed); word-break:break-word; }
.muted { color:var(--muted); }
dialog { border:1px solid var(--line); border-radius:8px; max-width:460px; }
dialog menu { display:flex; justify-content:flex-end; gap:8px; padding:0; margin:12px 0 0; }
.toast { position:fixed; right:20px; bottom:20px; background:#1d2430; color:#fff; padding:8px 14px; border-radius:6px; max-width:420px; }
.toast.error { background:var(--failed); }
`;
