// The models table: the base model first, then every adapter from GET /v1/adapters, each with
// buttons that put it in pane A or B.

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "–";
  if (className) td.className = className;
  return td;
}

function useButtons(id, label, onUse) {
  const td = document.createElement("td");
  td.className = "use";
  for (const letter of ["a", "b"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = letter.toUpperCase();
    button.dataset.testid = `use-${letter}`;
    button.setAttribute("aria-label", `Use ${label} in pane ${letter.toUpperCase()}`);
    button.addEventListener("click", () => onUse(id, letter));
    td.append(button);
  }
  return td;
}

function counters(c) {
  return c ? `${c.requests} · ${c.generated_tokens} · ${c.errors} · ${c.cancelled}` : null;
}

/** Replaces the rows of `tbody`; `onUse(modelId, paneLetter)` is called by the row buttons. */
export function renderModels(tbody, baseModel, adapters, onUse) {
  const rows = [];
  const base = document.createElement("tr");
  base.dataset.testid = "model-row";
  base.dataset.model = baseModel;
  base.append(cell(`${baseModel} (base)`, "name"), cell("base"), cell(null), cell(null), cell(null),
    useButtons(baseModel, `the base model ${baseModel}`, onUse));
  rows.push(base);

  for (const adapter of adapters) {
    const row = document.createElement("tr");
    row.dataset.testid = "model-row";
    row.dataset.model = adapter.id;
    const status = cell(adapter.status, "status");
    status.dataset.testid = "status";
    const counts = cell(counters(adapter.counters), "counters");
    counts.dataset.testid = "counters";
    if (adapter.counters) counts.dataset.requests = adapter.counters.requests;
    row.append(
      cell(adapter.id, "name"),
      status,
      cell(adapter.residency, `residency ${adapter.residency ?? ""}`),
      cell(adapter.rank === null ? null : `r${adapter.rank} α${adapter.lora_alpha}`, "rank"),
      counts,
      useButtons(adapter.id, adapter.id, onUse));
    row.title = [adapter.source && `source ${adapter.source}`, adapter.device && `device ${adapter.device}`,
      adapter.target_modules && `modules ${adapter.target_modules.join(", ")}`].filter(Boolean).join("\n");
    rows.push(row);
  }
  tbody.replaceChildren(...rows);
}

/** The model names offered while typing in a pane's model field. */
export function renderOptions(datalist, baseModel, adapters) {
  const names = [baseModel, ...adapters.map((a) => a.id)];
  datalist.replaceChildren(...names.map((name) => {
    const option = document.createElement("option");
    option.value = name;
    return option;
  }));
}
