namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// Real chat templates from Hugging Face tokenizer_config.json files and the text Jinja renders for
/// them. Expected outputs were produced with jinja2 3.1 using the environment transformers uses
/// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, raise_exception).
/// </summary>
internal static class ChatTemplateCases
{
    public const string Llama2 =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    public const string MistralV02 =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    public const string MistralV01Spaced =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ ' [INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    public const string MistralV01EosSpace =
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    public const string MistralV3 =
        "{%- if messages[0][\"role\"] == \"system\" %}\n"
        + "    {%- set system_message = messages[0][\"content\"] %}\n"
        + "    {%- set loop_messages = messages[1:] %}\n"
        + "{%- else %}\n"
        + "    {%- set loop_messages = messages %}\n"
        + "{%- endif %}\n"
        + "{%- if not tools is defined %}\n"
        + "    {%- set tools = none %}\n"
        + "{%- endif %}\n"
        + "{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n"
        + "\n"
        + "{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n"
        + "{%- set ns = namespace() %}\n"
        + "{%- set ns.index = 0 %}\n"
        + "{%- for message in loop_messages %}\n"
        + "    {%- if not (message.role == \"tool\" or message.role == \"tool_results\" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n"
        + "        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n"
        + "            {{- raise_exception(\"After the optional system message, conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
        + "        {%- endif %}\n"
        + "        {%- set ns.index = ns.index + 1 %}\n"
        + "    {%- endif %}\n"
        + "{%- endfor %}\n"
        + "\n"
        + "{{- bos_token }}\n"
        + "{%- for message in loop_messages %}\n"
        + "    {%- if message[\"role\"] == \"user\" %}\n"
        + "        {%- if tools is not none and (message == user_messages[-1]) %}\n"
        + "            {{- \"[AVAILABLE_TOOLS] [\" }}\n"
        + "            {%- for tool in tools %}\n"
        + "                {%- set tool = tool.function %}\n"
        + "                {{- '{\"type\": \"function\", \"function\": {' }}\n"
        + "                {%- for key, val in tool.items() if key != \"return\" %}\n"
        + "                    {%- if val is string %}\n"
        + "                        {{- '\"' + key + '\": \"' + val + '\"' }}\n"
        + "                    {%- else %}\n"
        + "                        {{- '\"' + key + '\": ' + val|tojson }}\n"
        + "                    {%- endif %}\n"
        + "                    {%- if not loop.last %}\n"
        + "                        {{- \", \" }}\n"
        + "                    {%- endif %}\n"
        + "                {%- endfor %}\n"
        + "                {{- \"}}\" }}\n"
        + "                {%- if not loop.last %}\n"
        + "                    {{- \", \" }}\n"
        + "                {%- else %}\n"
        + "                    {{- \"]\" }}\n"
        + "                {%- endif %}\n"
        + "            {%- endfor %}\n"
        + "            {{- \"[/AVAILABLE_TOOLS]\" }}\n"
        + "            {%- endif %}\n"
        + "        {%- if loop.last and system_message is defined %}\n"
        + "            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n"
        + "        {%- else %}\n"
        + "            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n"
        + "        {%- endif %}\n"
        + "    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n"
        + "        {{- \"[TOOL_CALLS] [\" }}\n"
        + "        {%- for tool_call in message.tool_calls %}\n"
        + "            {%- set out = tool_call.function|tojson %}\n"
        + "            {{- out[:-1] }}\n"
        + "            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n"
        + "                {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n"
        + "            {%- endif %}\n"
        + "            {{- ', \"id\": \"' + tool_call.id + '\"}' }}\n"
        + "            {%- if not loop.last %}\n"
        + "                {{- \", \" }}\n"
        + "            {%- else %}\n"
        + "                {{- \"]\" + eos_token }}\n"
        + "            {%- endif %}\n"
        + "        {%- endfor %}\n"
        + "    {%- elif message[\"role\"] == \"assistant\" %}\n"
        + "        {{- \" \" + message[\"content\"]|trim + eos_token}}\n"
        + "    {%- elif message[\"role\"] == \"tool_results\" or message[\"role\"] == \"tool\" %}\n"
        + "        {%- if message.content is defined and message.content.content is defined %}\n"
        + "            {%- set content = message.content.content %}\n"
        + "        {%- else %}\n"
        + "            {%- set content = message.content %}\n"
        + "        {%- endif %}\n"
        + "        {{- '[TOOL_RESULTS] {\"content\": ' + content|string + \", \" }}\n"
        + "        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n"
        + "            {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n"
        + "        {%- endif %}\n"
        + "        {{- '\"call_id\": \"' + message.tool_call_id + '\"}[/TOOL_RESULTS]' }}\n"
        + "    {%- else %}\n"
        + "        {{- raise_exception(\"Only user and assistant roles are supported, with the exception of an initial optional system message!\") }}\n"
        + "    {%- endif %}\n"
        + "{%- endfor %}\n";

    public const string Llama3 =
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n"
        + "\n"
        + "'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n"
        + "\n"
        + "' }}{% endif %}";

    public const string Llama31 =
        "{{- bos_token }}\n"
        + "\n"
        + "{%- if custom_tools is defined %}\n"
        + "    {%- set tools = custom_tools %}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{%- if not tools_in_user_message is defined %}\n"
        + "    {%- set tools_in_user_message = true %}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{%- if not date_string is defined %}\n"
        + "    {%- set date_string = \"26 Jul 2024\" %}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{%- if not tools is defined %}\n"
        + "    {%- set tools = none %}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{#- This block extracts the system message, so we can slot it into the right place. #}\n"
        + "{%- if messages[0]['role'] == 'system' %}\n"
        + "    {%- set system_message = messages[0]['content']|trim %}\n"
        + "    {%- set messages = messages[1:] %}\n"
        + "{%- else %}\n"
        + "    {%- set system_message = \"\" %}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{#- System message + builtin tools #}\n"
        + "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
        + "\n"
        + "{%- if builtin_tools is defined or tools is not none %}\n"
        + "    {{- \"Environment: ipython\\n\" }}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{%- if builtin_tools is defined %}\n"
        + "    {{- \"Tools: \" + builtin_tools | reject('equalto', 'code_interpreter') | join(\", \") + \"\\n\\n\"}}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
        + "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
        + "\n"
        + "{%- if tools is not none and not tools_in_user_message %}\n"
        + "    {{- \"You have access to the following functions. To call a function, please respond with JSON for a function call.\" }}\n"
        + "    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n"
        + "    {{- \"Do not use variables.\\n\\n\" }}\n"
        + "    {%- for t in tools %}\n"
        + "        {{- t | tojson(indent=4) }}\n"
        + "        {{- \"\\n\\n\" }}\n"
        + "    {%- endfor %}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{{- system_message }}\n"
        + "{{- \"<|eot_id|>\" }}\n"
        + "\n"
        + "{#- Custom tools are passed in a user message with some extra guidance #}\n"
        + "{%- if tools_in_user_message and not tools is none %}\n"
        + "    {#- Extract the first user message so we can plug it in here #}\n"
        + "    {%- if messages | length != 0 %}\n"
        + "        {%- set first_user_message = messages[0]['content']|trim %}\n"
        + "        {%- set messages = messages[1:] %}\n"
        + "    {%- else %}\n"
        + "        {{- raise_exception(\"Cannot put tools in the first user message when there's no first user message!\") }}\n"
        + "    {%- endif %}\n"
        + "\n"
        + "    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n"
        + "    {{- \"Given the following functions, please respond with a JSON for a function call \" }}\n"
        + "    {{- \"with its proper arguments that best answers the given prompt.\\n\\n\" }}\n"
        + "    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n"
        + "    {{- \"Do not use variables.\\n\\n\" }}\n"
        + "\n"
        + "    {%- for t in tools %}\n"
        + "        {{- t | tojson(indent=4) }}\n"
        + "        {{- \"\\n\\n\" }}\n"
        + "    {%- endfor %}\n"
        + "\n"
        + "    {{- first_user_message + \"<|eot_id|>\"}}\n"
        + "{%- endif %}\n"
        + "\n"
        + "{%- for message in messages %}\n"
        + "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n"
        + "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
        + "\n"
        + "    {%- elif 'tool_calls' in message %}\n"
        + "        {%- if not message.tool_calls|length == 1 %}\n"
        + "            {{- raise_exception(\"This model only supports single tool-calls at once!\") }}\n"
        + "        {%- endif %}\n"
        + "\n"
        + "        {%- set tool_call = message.tool_calls[0].function %}\n"
        + "\n"
        + "        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}\n"
        + "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
        + "            {{- \"<|python_tag|>\" + tool_call.name + \".call(\" }}\n"
        + "            {%- for arg_name, arg_val in tool_call.arguments | items %}\n"
        + "                {{- arg_name + '=\"' + arg_val + '\"' }}\n"
        + "                {%- if not loop.last %}\n"
        + "                    {{- \", \" }}\n"
        + "                {%- endif %}\n"
        + "            {%- endfor %}\n"
        + "            {{- \")\" }}\n"
        + "        {%- else  %}\n"
        + "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
        + "            {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n"
        + "            {{- '\"parameters\": ' }}\n"
        + "            {{- tool_call.arguments | tojson }}\n"
        + "            {{- \"}\" }}\n"
        + "        {%- endif %}\n"
        + "\n"
        + "        {%- if builtin_tools is defined %}\n"
        + "            {#- This means we're in ipython mode #}\n"
        + "            {{- \"<|eom_id|>\" }}\n"
        + "        {%- else %}\n"
        + "            {{- \"<|eot_id|>\" }}\n"
        + "        {%- endif %}\n"
        + "\n"
        + "    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n"
        + "        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n"
        + "        {%- if message.content is mapping or message.content is iterable %}\n"
        + "            {{- message.content | tojson }}\n"
        + "        {%- else %}\n"
        + "            {{- message.content }}\n"
        + "        {%- endif %}\n"
        + "        {{- \"<|eot_id|>\" }}\n"
        + "    {%- endif %}\n"
        + "{%- endfor %}\n"
        + "\n"
        + "{%- if add_generation_prompt %}\n"
        + "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
        + "{%- endif %}\n";

    public const string ChatML =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public const string SmolLM2 =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
        + "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        + "' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n"
        + "' + message['content'] + '<|im_end|>' + '\n"
        + "'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n"
        + "' }}{% endif %}";

    /// <summary>(template, conversation, addGenerationPrompt, expected text).</summary>
    public static readonly (string Template, string Conversation, bool AddGenerationPrompt, string Expected)[] Rendered =
    [
        ("Llama2", "One", true, "<s>[INST] Hi there [/INST]"),
        ("Llama2", "One", false, "<s>[INST] Hi there [/INST]"),
        ("Llama2", "Conversation", true, "<s>[INST] Hi there [/INST] Hello! How can I help? </s><s>[INST] What is 2+2? [/INST]"),
        ("Llama2", "Conversation", false, "<s>[INST] Hi there [/INST] Hello! How can I help? </s><s>[INST] What is 2+2? [/INST]"),
        ("Llama2", "WithSystem", true, "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello! How can I help? </s><s>[INST] What is 2+2? [/INST]"),
        ("Llama2", "WithSystem", false, "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello! How can I help? </s><s>[INST] What is 2+2? [/INST]"),
        ("Llama2", "SystemEndsWithAssistant", true, "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello! </s>"),
        ("Llama2", "SystemEndsWithAssistant", false, "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello! </s>"),
        ("MistralV02", "One", true, "<s>[INST] Hi there [/INST]"),
        ("MistralV02", "One", false, "<s>[INST] Hi there [/INST]"),
        ("MistralV02", "Conversation", true, "<s>[INST] Hi there [/INST] Hello! How can I help? </s>[INST]   What is 2+2?   [/INST]"),
        ("MistralV02", "Conversation", false, "<s>[INST] Hi there [/INST] Hello! How can I help? </s>[INST]   What is 2+2?   [/INST]"),
        ("MistralV01Spaced", "One", true, "<s> [INST] Hi there [/INST]"),
        ("MistralV01Spaced", "One", false, "<s> [INST] Hi there [/INST]"),
        ("MistralV01Spaced", "Conversation", true, "<s> [INST] Hi there [/INST]  Hello! How can I help? </s> [INST]   What is 2+2?   [/INST]"),
        ("MistralV01Spaced", "Conversation", false, "<s> [INST] Hi there [/INST]  Hello! How can I help? </s> [INST]   What is 2+2?   [/INST]"),
        ("MistralV01EosSpace", "One", true, "<s>[INST] Hi there [/INST]"),
        ("MistralV01EosSpace", "One", false, "<s>[INST] Hi there [/INST]"),
        ("MistralV01EosSpace", "Conversation", true, "<s>[INST] Hi there [/INST] Hello! How can I help? </s> [INST]   What is 2+2?   [/INST]"),
        ("MistralV01EosSpace", "Conversation", false, "<s>[INST] Hi there [/INST] Hello! How can I help? </s> [INST]   What is 2+2?   [/INST]"),
        ("MistralV3", "One", true, "<s>[INST] Hi there[/INST]"),
        ("MistralV3", "One", false, "<s>[INST] Hi there[/INST]"),
        ("MistralV3", "Conversation", true, "<s>[INST] Hi there[/INST] Hello! How can I help?</s>[INST]   What is 2+2?  [/INST]"),
        ("MistralV3", "Conversation", false, "<s>[INST] Hi there[/INST] Hello! How can I help?</s>[INST]   What is 2+2?  [/INST]"),
        ("MistralV3", "WithSystem", true, "<s>[INST] Hi there[/INST] Hello! How can I help?</s>[INST] Be brief.\n\n  What is 2+2?  [/INST]"),
        ("MistralV3", "WithSystem", false, "<s>[INST] Hi there[/INST] Hello! How can I help?</s>[INST] Be brief.\n\n  What is 2+2?  [/INST]"),
        ("MistralV3", "SystemEndsWithAssistant", true, "<s>[INST] Hi there[/INST] Hello!</s>"),
        ("MistralV3", "SystemEndsWithAssistant", false, "<s>[INST] Hi there[/INST] Hello!</s>"),
        ("Llama3", "One", true, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama3", "One", false, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"),
        ("Llama3", "Conversation", true, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama3", "Conversation", false, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"),
        ("Llama3", "WithSystem", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama3", "WithSystem", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"),
        ("Llama3", "SystemEndsWithAssistant", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama3", "SystemEndsWithAssistant", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"),
        ("Llama31", "One", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama31", "One", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"),
        ("Llama31", "Conversation", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama31", "Conversation", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"),
        ("Llama31", "WithSystem", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama31", "WithSystem", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"),
        ("Llama31", "SystemEndsWithAssistant", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        ("Llama31", "SystemEndsWithAssistant", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"),
        ("ChatML", "One", true, "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"),
        ("ChatML", "One", false, "<|im_start|>user\nHi there<|im_end|>\n"),
        ("ChatML", "Conversation", true, "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n<|im_start|>assistant\n"),
        ("ChatML", "Conversation", false, "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n"),
        ("ChatML", "WithSystem", true, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n<|im_start|>assistant\n"),
        ("ChatML", "WithSystem", false, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n"),
        ("ChatML", "SystemEndsWithAssistant", true, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>assistant\n"),
        ("ChatML", "SystemEndsWithAssistant", false, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"),
        ("SmolLM2", "One", true, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"),
        ("SmolLM2", "One", false, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"),
        ("SmolLM2", "Conversation", true, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n<|im_start|>assistant\n"),
        ("SmolLM2", "Conversation", false, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n"),
        ("SmolLM2", "WithSystem", true, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n<|im_start|>assistant\n"),
        ("SmolLM2", "WithSystem", false, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello! How can I help? <|im_end|>\n<|im_start|>user\n  What is 2+2?  <|im_end|>\n"),
        ("SmolLM2", "SystemEndsWithAssistant", true, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>assistant\n"),
        ("SmolLM2", "SystemEndsWithAssistant", false, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"),
    ];
}
