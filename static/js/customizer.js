// The theme customizer: the form saves the draft through htmx (hx-post on the form); the server
// answers with an HX-Trigger "preview-reload" event, and the preview frame shows the saved draft
// again, on whichever preview page the merchant had navigated to. Without JavaScript the form's
// "Save draft" button saves and the page (frame included) reloads.
// Boosted navigation runs this file again on each visit to the customizer: listen once.
if (!window.vitrineCustomizer) {
  window.vitrineCustomizer = true;

  document.body.addEventListener("preview-reload", () => {
    for (const frame of document.querySelectorAll("iframe[data-preview-frame]")) {
      try {
        frame.contentWindow.location.reload();
      } catch (error) {
        frame.src = frame.src; // not readable (it navigated away from the dashboard): load the preview again
      }
    }
  });

  // A range shows its value beside it as it moves.
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.matches("input[type=range]")) return;
    const output = input.parentElement.querySelector("output[data-range-value]");
    if (output) output.value = input.value;
  });
}
