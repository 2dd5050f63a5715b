// Uploads straight to S3 (product images, CSV imports): a live preview and the same checks the server
// makes, before the file leaves the browser. No inline script (the CSP forbids it); without this file the
// forms post the same way and the server's check answers with the same messages.
(function () {
  "use strict";

  // The image types the server accepts, by their first bytes (distribu.product_images.sniff).
  function sniff(bytes) {
    function at(offset, text) {
      for (var i = 0; i < text.length; i++) {
        if (bytes[offset + i] !== text.charCodeAt(i)) { return false; }
      }
      return true;
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) { return "image/jpeg"; }
    if (bytes[0] === 0x89 && at(1, "PNG\r\n\x1a\n")) { return "image/png"; }
    if (at(0, "RIFF") && at(8, "WEBP")) { return "image/webp"; }
    if (bytes.length >= 16 && at(4, "ftyp")) {
      var size = (bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) >>> 0;
      var end = Math.min(bytes.length, size >= 16 ? size : bytes.length);
      var offsets = [8];
      for (var offset = 16; offset + 4 <= end; offset += 4) { offsets.push(offset); }
      for (var j = 0; j < offsets.length; j++) {
        if (at(offsets[j], "avif") || at(offsets[j], "avis")) { return "image/avif"; }
      }
    }
    return null;
  }

  function setUp(form) {
    var input = form.querySelector("input[type=file]");
    var problem = form.querySelector("#image-problem");
    var hint = form.querySelector("#image-hint") || form.querySelector("#image-error");
    var figure = form.querySelector(".image-preview");
    var preview = form.querySelector("#image-preview");
    var declared = form.querySelector("input[name='Content-Type']");
    var button = form.querySelector("button[type=submit]");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
    var valid = false;

    function refuse(message) {
      valid = false;
      problem.textContent = message;
      problem.hidden = false;
      if (hint) { hint.hidden = true; }
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "image-problem");
      figure.hidden = true;
      preview.removeAttribute("src");
    }

    function accept(type, file) {
      valid = true;
      problem.hidden = true;
      problem.textContent = "";
      if (hint) { hint.hidden = false; }
      input.removeAttribute("aria-invalid");
      if (hint) { input.setAttribute("aria-describedby", hint.id); }
      if (declared) { declared.value = type; }
      var reader = new FileReader();
      reader.onload = function () {  // a data: URL: the CSP's img-src allows it, blob: is not needed
        preview.src = reader.result;
        figure.hidden = false;
      };
      reader.readAsDataURL(file);
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      valid = false;
      if (!file) { figure.hidden = true; return; }
      if (file.size > maxBytes) { refuse(form.getAttribute("data-too-large")); return; }
      file.slice(0, 64).arrayBuffer().then(function (buffer) {
        var type = file.size ? sniff(new Uint8Array(buffer)) : null;
        if (!type) { refuse(form.getAttribute("data-wrong-type")); return; }
        accept(type, file);
      });
    });

    form.addEventListener("submit", function (event) {
      if (!valid && input.files && input.files[0]) {
        event.preventDefault();
        input.focus();
        return;
      }
      button.setAttribute("aria-busy", "true");
      button.textContent = "Uploading…";
    });
  }

  function ready() {
    var forms = document.querySelectorAll("form[data-image-upload]");
    for (var i = 0; i < forms.length; i++) { setUp(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
