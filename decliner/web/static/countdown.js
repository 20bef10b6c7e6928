// The time left in a withdrawal's grace window, counted down each second. Without
// JavaScript the page still says when the withdrawal goes out.
"use strict";
function decliner_countdown() {
  for (const el of document.querySelectorAll("[data-grace-ends]")) {
    const ends = Date.parse(el.dataset.graceEnds);
    const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    const text = left > 0
      ? Math.floor(left / 60) + " min " + String(left % 60).padStart(2, "0") + " s left"
      : "the grace window is over: the withdrawal goes out at the next pass";
    if (el.textContent !== text) el.textContent = text;
  }
}
document.addEventListener("DOMContentLoaded", () => {
  decliner_countdown();
  setInterval(decliner_countdown, 1000);
});
