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

// Checkout, paying by card: the card goes from this page straight to the payment provider (as
// Stripe.js sends it), and only the PaymentMethod id it answers with is posted to the shop.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.id !== "pay-form" || form.dataset.tokenized === "yes") return;
  if (form.querySelector("input[name=payment]:checked")?.value !== "card") return;
  event.preventDefault();
  const error = form.querySelector("#card-error");
  const button = form.querySelector("#pay-button");
  const value = (name) => form.querySelector(`[data-card=${name}]`).value.replace(/\s+/g, "");
  const [month, shortYear] = value("expiry").split("/");
  const year = shortYear && shortYear.length === 2 ? `20${shortYear}` : shortYear;
  const body = new URLSearchParams({
    key: form.dataset.stripeKey, type: "card", "card[number]": value("number"),
    "card[exp_month]": month || "", "card[exp_year]": year || "", "card[cvc]": value("cvc"),
  });
  button.disabled = true;
  error.hidden = true;
  try {
    const answer = await fetch(`${form.dataset.stripeApi}/v1/payment_methods`, {method: "POST", body});
    const result = await answer.json();
    if (!answer.ok) throw new Error(result.error?.message || "The card was not accepted.");
    form.querySelector("input[name=payment_method]").value = result.id;
    form.dataset.tokenized = "yes";
    form.submit();
  } catch (problem) {
    error.textContent = problem.message || "We could not reach our payment provider. Try again shortly.";
    error.hidden = false;
    button.disabled = false;
  }
});

// Pages that only send the shopper on (to their bank for 3-D Secure) follow their link at once.
document.addEventListener("DOMContentLoaded", () => {
  const onward = document.querySelector("a[data-auto-follow]");
  if (onward) window.location.assign(onward.href);
});
