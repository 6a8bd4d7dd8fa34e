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
  if (input.matches("select[data-submit-on-change]")) input.form.submit();
});

// A manual collection's list: move a product up or down, or take it out (saved with the form).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-move], button[data-remove-item]");
  if (!button) return;
  const item = button.closest("li");
  if (button.dataset.move === "up" && item.previousElementSibling) {
    item.parentNode.insertBefore(item, item.previousElementSibling);
  } else if (button.dataset.move === "down" && item.nextElementSibling) {
    item.parentNode.insertBefore(item.nextElementSibling, item);
  } else if (button.hasAttribute("data-remove-item")) {
    item.remove();
  }
});
