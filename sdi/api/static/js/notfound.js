// The 404 page (served for any unknown address outside the API): names the address, links to the start page.
"use strict";
(() => {
  const missing = document.getElementById("missing");
  // decodeURI can throw on a malformed escape: then the address is shown as it came.
  let path = window.location.pathname;
  try { path = decodeURI(path); } catch (e) { /* keep it encoded */ }
  missing.textContent = `There is no page at ${path}.`;
})();
