/* The verify page, enhanced: drop a file anywhere on the form, and learn before uploading that a
   file is too large. The form works the same without this script. No inline script: the page's
   Content-Security-Policy allows scripts from this origin only. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-drop-zone]");
  if (!form || !window.FileList) { return; }
  var input = form.querySelector("input[type=file]");
  var error = document.getElementById("file-error");
  var hint = form.querySelector(".drop-hint");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var maxText = form.getAttribute("data-max-text") || "";
  if (!input || !error) { return; }
  if (hint) { hint.hidden = false; }

  function fits() {
    var file = input.files && input.files[0];
    if (file && maxBytes && file.size > maxBytes) {
      error.textContent = "This file is larger than " + maxText + ", the most this page accepts.";
      error.hidden = false;
      return false;
    }
    error.textContent = "";
    error.hidden = true;
    return true;
  }

  function holdsFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  input.addEventListener("change", fits);
  ["dragenter", "dragover"].forEach(function (name) {
    form.addEventListener(name, function (event) {
      if (!holdsFiles(event)) { return; }
      event.preventDefault();
      form.classList.add("dragging");
    });
  });
  ["dragleave", "dragend"].forEach(function (name) {
    form.addEventListener(name, function () { form.classList.remove("dragging"); });
  });
  form.addEventListener("drop", function (event) {
    form.classList.remove("dragging");
    if (!holdsFiles(event)) { return; }
    event.preventDefault();
    var files = event.dataTransfer.files;
    if (files && files.length) {
      input.files = files;
      fits();
      input.focus();
    }
  });
  form.addEventListener("submit", function (event) {
    if (!fits()) {
      event.preventDefault();
      input.focus();
    }
  });
}());
