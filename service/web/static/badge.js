/* The badge page's small enhancements. The page works without them: the link and the HTML snippet
   are shown as text, and "Is this you?" posts to the server, which does not keep the address.

   - "Copy" buttons (hidden until this script shows them) copy the text of the element their
     data-copy names.
   - "Is this you?" is answered in the browser when SubtleCrypto is available (a secure context):
     OB 3.0 identityHash = "sha256$" + hex(sha256(email + salt)), tried as typed and trimmed and
     lower-cased, as issuance normalises it. The address never leaves the browser then. */
(function () {
  "use strict";

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function sha256(text) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }

  function setUpCopy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = "value" in target ? target.value : target.textContent;
      navigator.clipboard.writeText(text.trim()).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Could not copy: select the text instead"; }
      );
      window.setTimeout(function () { button.textContent = label; }, 2500);
    });
  }

  function setUpIdentityCheck(form) {
    if (!window.crypto || !window.crypto.subtle || !window.TextEncoder) return;  // the server answers
    var identities;
    try {
      identities = JSON.parse(form.getAttribute("data-identities") || "[]");
    } catch (error) {
      return;
    }
    if (!identities.length) return;
    var input = form.querySelector("input[name=email]");
    var output = form.querySelector(".identity-result");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var typed = input.value;
      var candidates = [typed, typed.trim().toLowerCase()];
      var checks = [];
      identities.forEach(function (identity) {
        candidates.forEach(function (candidate) {
          checks.push(sha256(candidate + identity.salt).then(function (digest) { return digest === identity.hash; }));
        });
      });
      Promise.all(checks).then(function (results) {
        var match = results.some(Boolean);
        output.className = "identity-result " + (match ? "match" : "no-match");
        output.textContent = match
          ? "\u2714 Yes: this badge was issued to that email address."
          : "\u2718 No: this badge was not issued to that email address (check the spelling).";
      }, function () {
        form.submit();  // no digest here after all: ask the server
      });
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(setUpCopy);
  var identityForm = document.getElementById("identity-check");
  if (identityForm) setUpIdentityCheck(identityForm);
})();
