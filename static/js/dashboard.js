// Small dashboard behaviours, by event delegation so they survive htmx swaps.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.matches("input[type=file][data-preview]")) {
    // Show the chosen image before it is uploaded.
    const preview = input.form && input.form.querySelector(input.dataset.preview);
    if (preview && input.files[0]) {
      preview.src = window.URL.createObjectURL(input.files[0]);
      preview.hidden = false;
    }
  }
  if (input.matches("input[data-select-all]")) {
    for (const box of input.closest("table").querySelectorAll("input[name=ids]")) box.checked = input.checked;
  }
});
