// The console's behaviour. No inline script anywhere: the Content-Security-Policy forbids it.
"use strict";

// A live page (an element with data-live-url) asks its endpoint about once a second for its sections, rendered
// on the server in the staff's language, and swaps in each one whose HTML changed. The script has no text of
// its own. A poll that lands on the login page (the session ended) reloads the page, which shows the login.
function startLive(root) {
  const url = root.dataset.liveUrl;
  const shown = new Map();
  let failures = 0;
  async function poll() {
    let delay = 1000;
    try {
      const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, cache: "no-store"});
      if (response.redirected || response.status === 401 || response.status === 403) {
        window.location.reload();
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      for (const [id, html] of Object.entries(data.sections || {})) {
        const element = document.getElementById(id);
        if (element && shown.get(id) !== html) {
          element.innerHTML = html;
          shown.set(id, html);
          bindAutosubmit(element);
        }
      }
      if (data.generation !== undefined) root.dataset.generation = String(data.generation);
      root.classList.remove("stale");
      failures = 0;
    } catch (error) {
      // The console restarting or the network away: mark the page stale and try again, less often.
      failures += 1;
      root.classList.add("stale");
      delay = Math.min(10000, 1000 * 2 ** Math.min(failures, 4));
    }
    window.setTimeout(poll, delay);
  }
  window.setTimeout(poll, 1000);
}

// The language menu and filters change at once; their button is for browsers without script.
function bindAutosubmit(scope) {
  for (const select of scope.querySelectorAll("select[data-autosubmit]")) {
    if (select.dataset.bound) continue;
    select.dataset.bound = "1";
    const button = select.form.querySelector("button[type=submit]");
    if (button) button.hidden = true;
    select.addEventListener("change", () => select.form.submit());
  }
}

document.addEventListener("DOMContentLoaded", () => {
  bindAutosubmit(document);
  for (const root of document.querySelectorAll("[data-live-url]")) startLive(root);
});
