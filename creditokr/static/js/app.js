// Small progressive enhancements; every page also works without them.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.dataset.autosubmit !== undefined) {
    field.form?.requestSubmit();
  }
});
