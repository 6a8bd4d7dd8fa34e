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

// The menu button (narrow screens): CSS hides the menu only once this script has run, so
// without JavaScript the navigation stays in the page's flow.
document.documentElement.classList.add("js");

function setMenu(button, open) {
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) return;
  button.setAttribute("aria-expanded", open ? "true" : "false");
  menu.classList.toggle("open", open);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-menu-toggle]");
  if (button) setMenu(button, button.getAttribute("aria-expanded") !== "true");
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const button of document.querySelectorAll("button[data-menu-toggle][aria-expanded=true]")) {
    const menu = document.getElementById(button.getAttribute("aria-controls"));
    const focusWasInside = menu && menu.contains(document.activeElement);
    setMenu(button, false);
    if (focusWasInside) button.focus();
  }
});

// A refused form: focus its error summary, so keyboard and screen-reader users land on what to fix;
// on a full page load and after an htmx swap (a boosted form, a section of the product editor).
// A summary is focused once: one still on the page after an unrelated swap (a poll) is left alone.
function focusNewErrorSummary() {
  const fresh = document.querySelectorAll("[data-error-summary]:not([data-focused])");
  for (const summary of fresh) summary.setAttribute("data-focused", "");
  if (fresh.length) fresh[0].focus();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", focusNewErrorSummary);
} else {
  focusNewErrorSummary();
}
document.addEventListener("htmx:afterSettle", focusNewErrorSummary);

// The skip link: move focus into <main> (it has tabindex=-1), which also works after htmx swaps.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.skip-link");
  if (!link) return;
  const main = document.getElementById(link.getAttribute("href").slice(1));
  if (main) {
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  }
});
