// Progressive enhancement only: every page works without this file.
// After an htmx swap, move focus to the element the server marked, so keyboard and
// screen-reader users land somewhere sensible.
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail.elt && event.detail.elt.querySelector
    ? event.detail.elt.querySelector("[data-aplus-focus]")
    : null;
  if (!target) { target = document.querySelector("[data-aplus-focus]"); }
  if (target) {
    target.removeAttribute("data-aplus-focus");
    if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
    // A message that just received a réponse type: carry on typing after it.
    if (target.tagName === "TEXTAREA") {
      target.setSelectionRange(target.value.length, target.value.length);
    }
  }
});

// "Imprimer la demande": the print dialog (without JavaScript, Ctrl+P prints the same view).
function aplusShowPrintButtons() {
  var wrappers = document.querySelectorAll("[data-aplus-print-wrapper]");
  for (var i = 0; i < wrappers.length; i++) { wrappers[i].hidden = false; }
}
document.addEventListener("DOMContentLoaded", aplusShowPrintButtons);
document.addEventListener("htmx:afterSettle", aplusShowPrintButtons);
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("[data-aplus-print]") : null;
  if (link) {
    event.preventDefault();
    window.print();
  }
});

// While the database restarts, the server answers 503 and htmx swaps nothing: the form and
// what was typed stay as they are. Say so next to the form.
document.addEventListener("htmx:responseError", function (event) {
  if (event.detail.xhr.status !== 503) return;
  var target = event.detail.elt.closest("form") || event.detail.elt;
  if (target.querySelector(".aplus-unavailable")) return;
  var notice = document.createElement("div");
  notice.className = "fr-alert fr-alert--warning fr-alert--sm fr-mb-2w aplus-unavailable";
  notice.setAttribute("role", "alert");
  var text = document.createElement("p");
  text.textContent =
    "Le service est momentanément indisponible : votre saisie est conservée. Réessayez dans quelques secondes.";
  notice.appendChild(text);
  target.prepend(notice);
});

// Buttons only a browser without JavaScript needs (htmx refreshes those lists on change).
document.documentElement.setAttribute("data-aplus-htmx", window.htmx ? "on" : "off");

// Presence: tell the next poll whether a reply is being written (never what it says).
document.addEventListener("input", function (event) {
  if (event.target.id !== "answer-body") { return; }
  var flag = document.getElementById("presence-ecrit");
  if (flag) { flag.value = event.target.value.trim() ? "1" : ""; }
});

// A confirmation sent with an htmx answer (HX-Trigger "aplusNotice", see templating.py): shown
// in the page's live region, announced, like the flash a page without JavaScript gets.
document.addEventListener("aplusNotice", function (event) {
  var region = document.getElementById("messages");
  if (!region) { return; }
  var alert = document.createElement("div");
  alert.className = "fr-alert fr-alert--success fr-alert--sm fr-mb-3w";
  alert.id = "confirmation";
  alert.tabIndex = -1;
  var text = document.createElement("p");
  text.textContent = event.detail.value;
  alert.appendChild(text);
  region.replaceChildren(alert);
});
