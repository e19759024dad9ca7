// One chat pane: a model, its conversation, one streamed reply at a time and that reply's numbers.
import { describeError, streamChat } from "./api.js";

/** States, shown as data-state on the pane: idle, waiting, streaming, done, stopped, error. */
export class Pane {
  constructor(template, letter) {
    this.letter = letter;
    this.root = template.content.firstElementChild.cloneNode(true);
    this.root.id = `pane-${letter}`;
    this.root.dataset.testid = `pane-${letter}`;
    this.root.setAttribute("aria-label", `Pane ${letter.toUpperCase()}`);
    this.root.querySelector(".pane-title").textContent = `Pane ${letter.toUpperCase()}`;
    this.model = this.root.querySelector(".model-input");
    this.model.id = `model-${letter}`;
    this.transcript = this.root.querySelector(".transcript");
    this.stats = Object.fromEntries(["ttft", "tps", "tokens", "finish"].map(
      (name) => [name, this.root.querySelector(`[data-testid="${name}"]`)]));
    this.messages = [];
    this.controller = null;
  }

  get busy() {
    return this.controller !== null;
  }

  setState(state) {
    this.root.dataset.state = state;
  }

  clear() {
    this.messages = [];
    this.transcript.replaceChildren();
    this.showStats({});
    this.setState("idle");
  }

  stop() {
    this.controller?.abort();
  }

  /** Sends the conversation plus `prompt`; resolves when the reply ends, however it ends. */
  async send(prompt, settings) {
    this.showStats({});
    this.messages.push({ role: "user", content: prompt });
    this.addMessage("user", prompt);
    const reply = this.addMessage("assistant", "");
    const messages = settings.system ? [{ role: "system", content: settings.system }, ...this.messages] : this.messages;
    const request = { model: this.model.value.trim(), messages, ...settings.parameters };

    this.controller = new AbortController();
    this.setState("waiting");
    const started = performance.now();
    let first = null;
    let last = null;
    let tokens = 0;
    let finish = null;
    let usageTokens = null;
    const update = () => this.showStats({
      ttft: first === null ? null : first - started,
      tps: tokens > 1 && last > first ? (tokens - 1) / ((last - first) / 1000) : null,
      tokens: usageTokens ?? (first === null ? null : tokens),
      finish,
    });

    let failure = null;
    this.transcript.setAttribute("aria-busy", "true"); // read out once complete, not token by token
    try {
      for await (const chunk of streamChat(request, this.controller.signal)) {
        if (chunk.usage) usageTokens = chunk.usage.completion_tokens;
        for (const choice of chunk.choices ?? []) {
          const text = choice.delta?.content;
          if (text) {
            last = performance.now();
            if (first === null) {
              first = last;
              this.setState("streaming");
            }
            tokens++;
            reply.textContent += text;
            this.scrollDown();
          }
          finish = choice.finish_reason ?? finish;
        }
        update();
      }
    } catch (error) {
      if (error.name === "AbortError") finish = "stopped";
      else failure = describeError(error);
    } finally {
      this.controller = null;
      this.transcript.setAttribute("aria-busy", "false");
    }
    if (failure) finish = "error";
    update();
    this.finishExchange(reply, failure);
    this.setState(failure ? "error" : finish === "stopped" ? "stopped" : "done");
  }

  /**
   * A reply that ended (or was stopped) joins the conversation. A failed exchange leaves it, and the
   * error is shown under the prompt that caused it.
   */
  finishExchange(reply, failure) {
    if (!reply.textContent) reply.classList.add("empty");
    if (failure) {
      this.messages.pop();
      const item = this.addMessage("failed", failure);
      item.dataset.testid = "error";
      item.setAttribute("role", "alert");
    } else if (reply.textContent) {
      this.messages.push({ role: "assistant", content: reply.textContent });
    } else {
      this.messages.pop(); // stopped before the first token
    }
  }

  addMessage(role, text) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    item.dataset.testid = role === "user" ? "user-message" : "reply";
    item.textContent = text;
    this.transcript.append(item);
    this.scrollDown();
    return item;
  }

  scrollDown() {
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  showStats({ ttft = null, tps = null, tokens = null, finish = null }) {
    this.stats.ttft.textContent = ttft === null ? "–" : `${Math.round(ttft)} ms`;
    this.stats.tps.textContent = tps === null ? "–" : tps.toFixed(1);
    this.stats.tokens.textContent = tokens === null ? "–" : String(tokens);
    this.stats.finish.textContent = finish ?? "–";
  }
}
