// Keyplane console: progressive enhancement only; every page works without this file.
"use strict";

function openModals() {
  for (const dialog of document.querySelectorAll("dialog[data-modal]")) {
    if (typeof dialog.showModal === "function") {
      dialog.close();
      dialog.showModal();
    }
  }
}

async function copyField(button) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-status");
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch (_) {
    field.select();
    copied = document.execCommand("copy");
  }
  if (status) status.textContent = copied ? "Copied." : "Select the text and copy it.";
}

function showKindFields() {
  const chosen = document.querySelector("input[name=kind]:checked");
  for (const block of document.querySelectorAll("[data-kind]")) {
    block.hidden = !chosen || chosen.value !== block.dataset.kind;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  // A secret rendered by a POST must not come back on reload: make reload a plain GET.
  const replaceUrl = document.body.dataset.replaceUrl;
  if (replaceUrl) history.replaceState(null, "", replaceUrl);
  openModals();
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", () => copyField(button));
  }
  for (const radio of document.querySelectorAll("input[name=kind]")) {
    radio.addEventListener("change", showKindFields);
  }
  showKindFields();
});
