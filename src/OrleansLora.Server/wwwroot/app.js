// The playground page: server info and the models table, one or two chat panes fed the same prompt,
// Send / Stop / Clear, and the API key kept in localStorage.
import { describeError, getJson, loadApiKey, saveApiKey } from "./api.js";
import { renderModels, renderOptions } from "./adapters.js";
import { Pane } from "./pane.js";

const $ = (id) => document.getElementById(id);
const form = $("prompt-form");
const prompt = $("prompt");
const compare = $("compare");
const template = $("pane-template");
const panes = { a: new Pane(template, "a"), b: new Pane(template, "b") };
$("panes").append(panes.a.root, panes.b.root);

let baseModel = null;
let refreshing = null;

function activePanes() {
  return compare.checked ? [panes.a, panes.b] : [panes.a];
}

function showCompare() {
  panes.b.root.hidden = !compare.checked;
  $("panes").classList.toggle("two", compare.checked);
}

function useModel(id, letter) {
  panes[letter].model.value = id;
  if (letter === "b" && !compare.checked) {
    compare.checked = true;
    showCompare();
  }
  prompt.focus();
}

async function refresh() {
  const status = $("adapters-status");
  status.textContent = "Loading…";
  try {
    const [info, adapters] = await Promise.all([getJson("info"), getJson("v1/adapters")]);
    baseModel = info.base_model;
    const version = String(info.version ?? "").split("+")[0];
    const devices = info.devices?.length ?? 0;
    $("server-info").textContent = `Base model ${info.base_model} · ${info.max_loras} LoRA slots per device, rank ≤ ${info.max_lora_rank}`
      + ` · ${devices} device${devices === 1 ? "" : "s"} · role ${info.role} · v${version}`;
    renderModels($("adapter-rows"), baseModel, adapters.data, useModel);
    renderOptions($("model-options"), baseModel, adapters.data);
    status.textContent = `${adapters.data.length} adapter${adapters.data.length === 1 ? "" : "s"}, updated ${new Date().toLocaleTimeString()}`;
    // First load: suggest the first adapters rather than leaving the fields empty.
    const ids = adapters.data.map((a) => a.id);
    if (!panes.a.model.value) panes.a.model.value = ids[0] ?? baseModel;
    if (!panes.b.model.value) panes.b.model.value = ids[1] ?? baseModel;
  } catch (error) {
    status.textContent = `Could not load the models: ${describeError(error)}`;
  }
}

/** One refresh at a time; a second call while one runs waits for it. */
function refreshOnce() {
  refreshing ??= refresh().finally(() => { refreshing = null; });
  return refreshing;
}

/** Form fields to request parameters; empty fields are left out so the server's defaults apply. */
function settings() {
  const parameters = {};
  const number = (id) => ($(id).value.trim() === "" ? undefined : Number($(id).value));
  const maxTokens = number("max-tokens");
  const temperature = number("temperature");
  const seed = number("seed");
  if (maxTokens !== undefined) parameters.max_tokens = maxTokens;
  if (temperature !== undefined) parameters.temperature = temperature;
  if (seed !== undefined) parameters.seed = seed;
  return { system: $("system").value.trim(), parameters };
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  compare.disabled = busy;
  $("clear").disabled = busy;
  form.setAttribute("aria-busy", String(busy));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = prompt.value.trim();
  if (!text || Object.values(panes).some((p) => p.busy)) return;
  prompt.value = "";
  setBusy(true);
  const request = settings();
  await Promise.all(activePanes().map((pane) => pane.send(text, request)));
  setBusy(false);
  prompt.focus();
  // The counters reach the table once the workers publish them; look again shortly.
  setTimeout(refreshOnce, 1500);
});

prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
  }
});

$("stop").addEventListener("click", () => Object.values(panes).forEach((p) => p.stop()));
$("clear").addEventListener("click", () => Object.values(panes).forEach((p) => p.clear()));
$("refresh").addEventListener("click", refreshOnce);
compare.addEventListener("change", showCompare);

const key = $("api-key");
key.value = loadApiKey();
key.addEventListener("change", () => {
  saveApiKey(key.value.trim());
  refreshOnce();
});

showCompare();
refreshOnce();
