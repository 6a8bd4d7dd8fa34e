// Storefront enhancements (the pages work without them). Escape closes the search suggestions.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const box = document.getElementById("search-suggestions");
  if (box) box.replaceChildren();
});

// A refused cart change (409: sold out, only 2 left…) answers with the message to show in place:
// forms marked data-swap-errors let htmx swap 4xx answers like any other.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const source = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (status >= 400 && status < 500 && source && source.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
