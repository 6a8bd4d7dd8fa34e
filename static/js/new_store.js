// New store form: the handle follows the store's name as it is typed, until the
// merchant types a handle of their own (clearing it hands it back to the name).
// The slug is made as tenants/provisioning.py suggest_handle makes it on the server.
(() => {
  if (window.vitrineNewStore) return;  // htmx may run this file again after a swap
  window.vitrineNewStore = true;

  const slug = (text) => text.replace(/ß/g, "ss").normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");

  const showPreview = (form, handle) => {
    const preview = form.querySelector("[data-handle-preview]");
    if (preview) preview.textContent = handle || "handle";
  };

  // A handle already in the form (sent back with an error) that the name would not make is the merchant's own.
  for (const form of document.querySelectorAll("form[data-new-store]")) {
    const handle = form.elements.namedItem("handle");
    if (handle.value && handle.value !== slug(form.elements.namedItem("name").value)) handle.dataset.edited = "yes";
  }

  document.addEventListener("input", (event) => {
    const input = event.target;
    const form = input.closest("form[data-new-store]");
    if (!form) return;
    const handle = form.elements.namedItem("handle");
    if (input === handle) {
      handle.dataset.edited = handle.value === "" ? "" : "yes";
    } else if (input === form.elements.namedItem("name") && !handle.dataset.edited) {
      handle.value = slug(input.value);
    }
    showPreview(form, handle.value);
  });
})();
