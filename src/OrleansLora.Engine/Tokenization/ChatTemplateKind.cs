namespace OrleansLora.Engine.Tokenization;

/// <summary>The prompt formats <see cref="ChatTemplate"/> recognises from a Jinja chat template.</summary>
public enum ChatTemplateKind
{
    /// <summary><c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> (Qwen, many fine-tunes); the default.</summary>
    ChatML,

    /// <summary>Llama-2 chat: <c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\n...\n&lt;&lt;/SYS&gt;&gt;\n\nuser [/INST] answer &lt;/s&gt;</c>.</summary>
    Llama2,

    /// <summary>Mistral / Mixtral instruct: <c>[INST] ... [/INST]</c> without a system block (whitespace per version).</summary>
    Mistral,

    /// <summary>Llama-3: <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>.</summary>
    Llama3,
}
