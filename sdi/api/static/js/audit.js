// Audit trail page (issue 14): filled by its owner.
"use strict";
(async () => {
  await SDI.boot();
  SDI.clear(SDI.$("#content"));
})();
