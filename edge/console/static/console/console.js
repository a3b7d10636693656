// The console's behaviour. No inline script anywhere: the Content-Security-Policy forbids it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // The language menu changes the language at once; its button is for browsers without script.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    const button = select.form.querySelector("button[type=submit]");
    if (button) button.hidden = true;
    select.addEventListener("change", () => select.form.submit());
  }
});
