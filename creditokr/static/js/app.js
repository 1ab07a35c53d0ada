// Small progressive enhancements; every page also works without them.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.dataset.autosubmit !== undefined) {
    field.form?.requestSubmit();
  }
});

// A form is sent once. htmx forms disable their submit buttons while the
// request runs (hx-disabled-elt) and enable them again when it fails or the
// form comes back with errors. Other POST forms are handled here: a second
// submit is ignored and the buttons are disabled until the next page. The
// server still refuses a second create with the same one-time token.
const SUBMIT_BUTTONS = "button:not([type]), button[type='submit'], input[type='submit']";

function setSending(form, sending) {
  for (const button of form.querySelectorAll(SUBMIT_BUTTONS)) {
    if (sending && !button.disabled) {
      button.disabled = true;
      button.dataset.disabledWhileSending = "";
    } else if (!sending && button.dataset.disabledWhileSending !== undefined) {
      button.disabled = false;
      delete button.dataset.disabledWhileSending;
    }
  }
  if (sending) {
    form.dataset.sending = "";
  } else {
    delete form.dataset.sending;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented) {
    return; // htmx has taken this one
  }
  if (form.method.toLowerCase() !== "post") {
    return;
  }
  if (form.dataset.sending !== undefined) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "";
  // Disable once the browser has read the form: a disabled submit button
  // would leave its own name and value out of what is sent.
  setTimeout(() => setSending(form, true), 0);
});

// Coming back with the Back button shows the page as it was left.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    for (const form of document.querySelectorAll("form[data-sending]")) {
      setSending(form, false);
    }
  }
});

// htmx enables its own buttons after an error; make sure a form it failed
// to send is not left marked as sending either.
for (const name of ["htmx:responseError", "htmx:sendError", "htmx:timeout"]) {
  document.addEventListener(name, (event) => {
    const form = event.target instanceof HTMLFormElement ? event.target : null;
    if (form !== null) {
      setSending(form, false);
    }
  });
}
