// Re-fetch the dashboard panel while the page is visible. The server returns 204
// when no read, truth or prediction changed since the fingerprint the panel carries.
(function () {
  "use strict";
  const panel = document.getElementById("dashboard-panel");
  const status = document.getElementById("refresh-status");
  if (!panel) {
    return;
  }
  const interval = 1000 * Number(panel.dataset.interval || 10);

  async function refresh() {
    if (document.hidden) {
      return;
    }
    const data = document.getElementById("dashboard-data");
    const fingerprint = data ? data.dataset.fingerprint : "";
    const url = panel.dataset.url + "&fingerprint=" + encodeURIComponent(fingerprint);
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
      if (response.status === 200) {
        panel.innerHTML = await response.text();
        status.textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
      } else if (response.status !== 204) {
        status.textContent = "Update failed (HTTP " + response.status + "); the figures are from the last successful update.";
      }
    } catch (error) {
      status.textContent = "Update failed (" + error.message + "); retrying in " + interval / 1000 + " s.";
    }
  }

  window.setInterval(refresh, interval);
})();
