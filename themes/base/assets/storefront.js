// Storefront enhancements (the pages work without them). Escape closes the search suggestions.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const box = document.getElementById("search-suggestions");
  if (box) box.replaceChildren();
});
