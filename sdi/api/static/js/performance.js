// performance page (issue 13): filled in by the loop work.
"use strict";
(async () => {
  const { $, clear } = SDI;
  await SDI.boot();
  clear($("#content")).textContent = "Coming soon.";
})();
