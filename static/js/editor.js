// The product editor and its neighbours: ask before destructive posts, keep
// unsaved edits from being lost, and preselect the usual stock reason.
// Loaded by each page that needs it, also after an htmx swap: once is enough,
// as every listener is delegated from the document and survives swaps.
(() => {
  if (window.vitrineEditor) return;
  window.vitrineEditor = true;

  // ---- Destructive actions ---------------------------------------------
  // The server deletes only when the form carries confirmed=yes; without it
  // it answers a confirmation page. Asking here first saves that round trip.
  // Capture phase, so a "no" stops the click before htmx or the form sees it.

  function markConfirmed(form, yes) {
    let field = form.querySelector("input[type=hidden][name=confirmed]");
    if (!yes) {
      if (field) field.remove();
      return;
    }
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "confirmed";
      form.append(field);
    }
    field.value = "yes";
  }

  function bulkDeleteQuestion(form) {
    const action = form.querySelector("select[name=action]");
    if (!action || action.value !== "delete") return null;
    const count = form.querySelectorAll("input[name=ids]:checked").length;
    if (!count) return null; // the server says to select some first
    const noun = count === 1 ? "1 product" : `${count} products`;
    return `Delete ${noun} permanently, with their variants, images and stock? This cannot be undone.\n\n` +
      "To hide them from the store instead (undoable), cancel and choose Archive.";
  }

  function stop(event) {
    event.preventDefault();
    event.stopPropagation();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-confirm], button[data-confirm-bulk-delete]");
    if (!button || !button.form) return;
    const question = button.hasAttribute("data-confirm") ? button.dataset.confirm : bulkDeleteQuestion(button.form);
    if (!question) {
      markConfirmed(button.form, false);
      return;
    }
    if (window.confirm(question)) {
      markConfirmed(button.form, true);
    } else {
      markConfirmed(button.form, false);
      stop(event);
    }
  }, true);

  // ---- Unsaved edits in the product editor ------------------------------
  // Each section of the editor saves on its own, and saving one replaces a
  // part of the page (a variant row's save swaps every variant row; "Save
  // details" reloads the page). A save that would replace another form's
  // unsaved edits is held back and those forms are flagged instead; leaving
  // the page with unsaved edits asks first.

  const EDITABLE = "input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea";

  function editorForms(root = document) {
    const editor = document.querySelector("[data-editor]");
    if (!editor) return [];
    return [...root.querySelectorAll("form")].filter((form) => editor.contains(form) &&
      (form.getAttribute("method") || "get").toLowerCase() === "post");
  }

  function changed(element) {
    if (element.type === "checkbox" || element.type === "radio") return element.checked !== element.defaultChecked;
    if (element.type === "file") return element.files.length > 0;
    if (element.tagName === "SELECT") {
      const options = [...element.options];
      if (element.multiple) return options.some((o) => o.selected !== o.defaultSelected);
      // A single select with no option marked selected starts on its first.
      return element.selectedIndex !== Math.max(0, options.findLastIndex((o) => o.defaultSelected));
    }
    return element.value !== element.defaultValue;
  }

  function isRefused(form) {
    return form.hasAttribute("data-refused") ||
      Boolean(form.querySelector("[data-error-summary], :scope > .alert-error:not(.unsaved-block)"));
  }

  function isDirty(form) {
    // A refused save comes back showing what was posted as the field values:
    // unsaved still, though nothing differs from what the page was sent with.
    if (isRefused(form)) return true;
    return [...form.querySelectorAll(EDITABLE)].some(changed);
  }

  // A variant row (role=row) may hold only cells: a note added to one is a cell too.
  function inRow(form, element) {
    if (form.getAttribute("role") === "row") element.setAttribute("role", "cell");
    return element;
  }

  function marker(form) {
    let note = form.querySelector(":scope > .unsaved-note");
    if (!note) {
      note = inRow(form, document.createElement("p"));
      note.className = "unsaved-note";
      const text = document.createElement("span");
      text.setAttribute("role", "status");
      text.textContent = "Unsaved changes — save or discard. ";
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "link";
      discard.dataset.discard = "";
      discard.textContent = "Discard";
      note.append(text, discard);
      form.append(note);
    }
    return note;
  }

  function refresh(form) {
    const dirty = isDirty(form);
    form.classList.toggle("is-dirty", dirty);
    if (dirty) {
      marker(form);
    } else {
      form.classList.remove("is-flagged");
      const note = form.querySelector(":scope > .unsaved-note");
      if (note) note.remove();
    }
    return dirty;
  }

  function trackedForm(element) {
    const form = element && element.form;
    return form && editorForms().includes(form) ? form : null;
  }

  for (const type of ["input", "change"]) {
    document.addEventListener(type, (event) => {
      const form = trackedForm(event.target);
      if (form) refresh(form);
    });
  }

  document.addEventListener("click", (event) => {
    const discard = event.target.closest("button[data-discard]");
    if (!discard) return;
    const form = discard.closest("form");
    if (isRefused(form)) {
      // A refused form's fields hold what was typed, not what is stored:
      // discarding means showing the stored values again.
      leaving = "page";
      window.location.reload();
      return;
    }
    form.reset();
    refresh(form);
  });

  // A refused form comes back holding what was typed: it is marked unsaved
  // at once (with its Discard), on load and after each swap.
  function markRefused() {
    for (const form of editorForms()) if (isRefused(form)) refresh(form);
  }
  markRefused();
  document.addEventListener("htmx:afterSettle", markRefused);

  // The part of the page a request answers into: its htmx target, or the whole page.
  function region(element) {
    const target = window.htmx && element.closest("[hx-target]");
    const selector = target && target.getAttribute("hx-target");
    return (selector && document.querySelector(selector)) || document.body;
  }

  function dirtyIn(area, except) {
    return editorForms(area).filter((form) => form !== except && isDirty(form));
  }

  function warnBlocked(form, dirty) {
    for (const other of dirty) {
      marker(other);
      other.classList.add("is-flagged");
    }
    let alert = form.querySelector(":scope > .unsaved-block");
    if (!alert) {
      alert = document.createElement("p");
      alert.className = "alert alert-error unsaved-block";
      alert.setAttribute("role", "alert");
      if (form.getAttribute("role") === "row") {  // only cells in a row: a cell that speaks up
        alert.setAttribute("role", "cell");
        alert.setAttribute("aria-live", "assertive");
      }
      form.prepend(alert);
    }
    const count = dirty.length === 1 ? "another part of the page has" : `${dirty.length} other parts of the page have`;
    alert.textContent = `Not saved yet: ${count} unsaved changes (flagged) that this would reload away. ` +
      "Save or discard them first.";
    dirty[0].scrollIntoView({block: "center"});
  }

  let leaving = null; // the form whose own submission unloads the page (no htmx), or "page" once asked

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!editorForms().includes(form) && !form.closest("[data-editor]")) return;
    const dirty = dirtyIn(region(form), form);
    if (dirty.length) {
      stop(event);
      warnBlocked(form, dirty);
      return;
    }
    const alert = form.querySelector(":scope > .unsaved-block");
    if (alert) alert.remove();
    leaving = form;
  }, true);

  // A link that replaces the region holding unsaved edits (a pager, or any
  // page boosted by htmx, which fires no beforeunload) asks first.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || link.target || link.hasAttribute("download") || link.getAttribute("href").startsWith("#")) return;
    if (!dirtyIn(region(link), null).length) return;
    if (window.confirm("You have unsaved changes on this page. Leave and lose them?")) {
      leaving = "page"; // asked once already: no second question from beforeunload
    } else {
      stop(event);
    }
  }, true);

  window.addEventListener("beforeunload", (event) => {
    const dirty = leaving === "page" ? [] : editorForms().filter((form) => form !== leaving && isDirty(form));
    leaving = null;
    if (!dirty.length) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers show their own text only when this is set
  });

  // ---- Stock reasons ----------------------------------------------------
  // Until the merchant picks a reason, show the one the server would record:
  // a count is a correction, stock coming in was received.

  function usualReason(form) {
    const mode = form.querySelector("[data-stock-mode]");
    const delta = Number.parseInt((form.querySelector("[data-stock-delta]") || {}).value, 10);
    if (mode && mode.value === "set") return "correction";
    if (delta > 0) return "received";
    if (delta < 0) return "correction";
    return "";
  }

  for (const type of ["input", "change"]) {
    document.addEventListener(type, (event) => {
      const field = event.target;
      if (field.matches("select[data-usual-reason]")) {
        field.dataset.chosen = "yes";
      } else if (field.matches("[data-stock-mode], [data-stock-delta]")) {
        const reason = field.form && field.form.querySelector("select[data-usual-reason]");
        if (reason && !reason.dataset.chosen) reason.value = usualReason(field.form);
      }
    }, true);
  }
})();
