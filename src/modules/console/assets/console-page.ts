/** Text safe inside an HTML attribute or element. */
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/**
 * The console's HTML shell: no data and no inline script or style (the CSP forbids both); the
 * script fills it from `<base>/api/overview`. `base` is where the page was reached; `etagOf`
 * versions each asset URL so browsers may cache the files until they change.
 */
export function renderConsolePage(base: string, etagOf: (asset: string) => string): string {
  const b = escapeHtml(base);
  const src = (name: string) =>
    `${b}/assets/${name}?v=${encodeURIComponent(etagOf(name).replace(/"/g, ''))}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Hinted handoff console</title>
<link rel="stylesheet" href="${src('uplot.css')}">
<link rel="stylesheet" href="${src('console.css')}">
</head>
<body data-base="${b}">
<header>
  <h1>Hinted handoff</h1>
  <div id="relay-health" class="health" aria-live="polite"></div>
  <form id="token-form" class="token" autocomplete="off">
    <span id="access-state" class="access"></span>
    <input id="token-input" type="password" placeholder="admin token" aria-label="admin token">
    <button id="token-save" type="submit">Use token</button>
    <button id="token-forget" type="button" hidden>Forget token</button>
  </form>
</header>
<main>
  <p id="status-line" class="status-line" role="status"></p>
  <table id="nodes" class="nodes">
    <thead><tr>
      <th>node</th><th>state</th><th class="num">backlog</th><th class="num">bytes</th>
      <th class="num">oldest</th><th class="num">hand-off/s</th><th class="num">replay/s</th>
      <th class="num">empty in</th><th class="num">dead letters</th><th class="num">queue full</th>
      <th>last error</th>
    </tr></thead>
    <tbody></tbody>
  </table>
  <section id="cards" class="cards"></section>
</main>
<dialog id="purge-dialog">
  <form method="dialog">
    <p id="purge-text"></p>
    <menu>
      <button value="cancel" id="purge-cancel">Cancel</button>
      <button value="purge" id="purge-confirm" class="danger">Purge</button>
    </menu>
  </form>
</dialog>
<div id="toast" class="toast" role="alert" hidden></div>
<script src="${src('uplot.js')}"></script>
<script src="${src('console.js')}"></script>
</body>
</html>
`;
}
