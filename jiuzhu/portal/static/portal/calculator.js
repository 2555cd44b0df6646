// Adds and removes rows of the calculator's formsets; no build step, no framework.
// A new row is the section's <template> with __prefix__ replaced by the next form index;
// a removed row is hidden and its DELETE box ticked, so the formset indices never shift.
"use strict";

function addRow(prefix) {
  const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
  const template = document.getElementById(`${prefix}-empty-row`);
  const rows = document.getElementById(`${prefix}-rows`);
  const index = Number(total.value);
  rows.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", String(index)));
  total.value = String(index + 1);
  rows.lastElementChild.querySelector("input:not([type=hidden]), select")?.focus();
}

function removeRow(row) {
  const remove = row.querySelector('input[name$="-DELETE"]');
  if (remove) {
    remove.checked = true;
  }
  row.hidden = true;
}

document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add-row]");
  if (add) {
    addRow(add.dataset.addRow);
    return;
  }
  const remove = event.target.closest("[data-remove-row]");
  if (remove) {
    removeRow(remove.closest("[data-row]"));
  }
});
