// A round trip through the official `openai` npm package (the Node SDK) against a running OrleansLora server,
// run by NodeOpenAiSdkTests. Input: the JSON in OLORA_NODE_INPUT ({ baseURL, packageDir, model, schema, tool }).
// It makes the calls as a Node application would, lets the SDK parse every answer, checks what needs no schema
// library here, and prints what it received as one JSON document on stdout; the .NET test validates the JSON
// answers against their schemas. Any failure (SDK error, unparseable JSON) exits non-zero with the reason on stderr.
'use strict';

const path = require('node:path');
const { createRequire } = require('node:module');

const input = JSON.parse(process.env.OLORA_NODE_INPUT ?? 'null');
if (!input) {
  console.error('OLORA_NODE_INPUT is not set');
  process.exit(2);
}
// The SDK is installed under artifacts/ (scripts/ensure-deps.sh), not next to this script: resolve it from there.
const requireSdk = createRequire(path.join(input.packageDir, 'package.json'));
const { OpenAI } = requireSdk('openai');
const { VERSION } = requireSdk('openai/version');

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not JSON (${e.message}): ${text}`);
  }
}

async function main() {
  // No retries: a failure must show as one, not be hidden behind a retry that succeeds.
  const client = new OpenAI({ baseURL: input.baseURL, apiKey: 'any-key', maxRetries: 0, timeout: 120_000 });
  const messages = [{ role: 'user', content: 'Describe a person.' }];

  const models = [];
  for await (const model of client.models.list()) models.push(model.id);

  const structured = await client.chat.completions.create({
    model: input.model,
    messages,
    max_tokens: 120,
    temperature: 1,
    seed: 3,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: input.schema, strict: true } },
  });
  const structuredText = structured.choices[0].message.content;
  parseJson(structuredText, 'the json_schema answer');

  const toolAnswer = await client.chat.completions.create({
    model: input.model,
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    max_tokens: 120,
    temperature: 1,
    seed: 5,
    tools: [{ type: 'function', function: { name: input.tool.name, description: 'Weather in a city', parameters: input.tool.parameters } }],
    tool_choice: 'required',
  });
  const toolCalls = toolAnswer.choices[0].message.tool_calls ?? [];
  check(toolCalls.length > 0, `tool_choice "required" gave no tool_calls: ${JSON.stringify(toolAnswer.choices[0].message)}`);
  for (const call of toolCalls) parseJson(call.function.arguments, `the arguments of tool call ${call.id}`);

  // A named tool call streamed: the SDK's stream helper accumulates delta.tool_calls into a final message, which
  // it only manages when the deltas have the shape OpenAI's have (index, id, type, function name and arguments).
  const toolStream = client.chat.completions.stream({
    model: input.model,
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    max_tokens: 120,
    temperature: 0,
    tools: [{ type: 'function', function: { name: input.tool.name, description: 'Weather in a city', parameters: input.tool.parameters } }],
    tool_choice: { type: 'function', function: { name: input.tool.name } },
  });
  const streamedToolAnswer = await toolStream.finalChatCompletion();
  const streamedToolCalls = streamedToolAnswer.choices[0].message.tool_calls ?? [];
  check(streamedToolCalls.length > 0, `a streamed named tool_choice gave no tool_calls: ${JSON.stringify(streamedToolAnswer.choices[0].message)}`);
  for (const call of streamedToolCalls) parseJson(call.function.arguments, `the arguments of streamed tool call ${call.id}`);

  const plain = { model: input.model, messages, max_tokens: 8, temperature: 0 };
  const whole = await client.chat.completions.create(plain);
  const stream = await client.chat.completions.create({ ...plain, stream: true, stream_options: { include_usage: true } });
  let streamedText = '';
  let chunks = 0;
  let streamFinish = null;
  let streamUsage = null;
  for await (const chunk of stream) {
    chunks++;
    const choice = chunk.choices[0];
    if (choice?.delta?.content) streamedText += choice.delta.content;
    if (choice?.finish_reason) streamFinish = choice.finish_reason;
    if (chunk.usage) streamUsage = chunk.usage;
  }

  process.stdout.write(JSON.stringify({
    sdkVersion: VERSION,
    models,
    structured: { content: structuredText, finishReason: structured.choices[0].finish_reason },
    tools: {
      finishReason: toolAnswer.choices[0].finish_reason,
      calls: toolCalls.map(c => ({ id: c.id, type: c.type, name: c.function.name, arguments: c.function.arguments })),
    },
    streamedTools: {
      finishReason: streamedToolAnswer.choices[0].finish_reason,
      calls: streamedToolCalls.map(c => ({ id: c.id, type: c.type, name: c.function.name, arguments: c.function.arguments })),
    },
    whole: { content: whole.choices[0].message.content, finishReason: whole.choices[0].finish_reason, usage: whole.usage },
    stream: { content: streamedText, chunks, finishReason: streamFinish, usage: streamUsage },
  }));
}

main().catch(e => {
  console.error(e?.stack ?? String(e));
  process.exit(1);
});
