using System.Text.Json.Nodes;

namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>
/// Field × bad value for every JSON endpoint: each field given values of the wrong type, then values of the right
/// type out of range. Every case must be a 400 (404 for an unknown adapter) naming that field in its wire name.
/// </summary>
public static class FieldCorpus
{
    private static readonly (string Label, string Raw)[] NotAString = [("a number", "123"), ("true", "true"), ("an object", "{}"), ("an array", "[\"x\"]")];
    private static readonly (string Label, string Raw)[] NotAnInt =
        [("a string", "\"2\""), ("a fraction", "1.5"), ("true", "true"), ("an object", "{}"), ("an array", "[2]"), ("an exponent", "1e3"), ("2^31", "2147483648"), ("a 20-digit integer", "99999999999999999999"), ("-(2^31)-1", "-2147483649")];
    private static readonly (string Label, string Raw)[] NotAFloat =
        [("a string", "\"0.5\""), ("true", "true"), ("an object", "{}"), ("an array", "[0.5]"), ("1e309", "1e309"), ("-1e309", "-1e309")];
    private static readonly (string Label, string Raw)[] NotABool = [("a string", "\"true\""), ("1", "1"), ("an object", "{}"), ("an array", "[]")];
    private static readonly (string Label, string Raw)[] NotALong =
        [("a string", "\"1\""), ("a fraction", "1.5"), ("1e20", "1e20"), ("true", "true"), ("2^63", "9223372036854775808"), ("a 30-digit integer", "999999999999999999999999999999")];
    private static readonly (string Label, string Raw)[] NotStops =
        [("a number", "1"), ("an object", "{}"), ("[1]", "[1]"), ("[null]", "[null]"), ("[[]]", "[[]]"), ("[\"\"]", "[\"\"]"), ("\"\"", "\"\""), ("five sequences", "[\"a\",\"b\",\"c\",\"d\",\"e\"]")];
    private static readonly (string Label, string Raw)[] NotAnObject = [("a string", "\"x\""), ("a number", "1"), ("an array", "[]"), ("true", "true")];

    /// <summary>Names that can never be adapter ids (400), on every field that names an adapter.</summary>
    private static readonly (string Label, string Raw)[] BadNames =
    [
        ("path traversal", "\"../../etc/passwd\""), ("a slash", "\"a/b\""), ("a NUL", "\"demo\\u0000sql\""), ("a trailing newline", "\"demo-sql\\n\""),
        ("a leading space", "\" demo-sql\""), ("129 characters", $"\"{new string('a', 129)}\""), ("fullwidth letters", "\"ＤＥＭＯ\""),
        ("a hidden name", "\".hidden\""), ("a leading dash", "\"-x\""), ("a right-to-left override", "\"demo\\u202esql\""), ("a zero-width space", "\"demo\\u200bsql\""),
        ("a backslash", "\"a\\\\b\""), ("an emoji", "\"\\ud83d\\ude00\""), ("dot-dot inside", "\"a..b\""),
    ];

    public static IEnumerable<BadInputCase> All()
    {
        foreach (var c in OpenAiCommon("chat", "v1/chat/completions", JsonBodies.Chat))
            yield return c;
        foreach (var c in Chat())
            yield return c;
        foreach (var c in Completions())
            yield return c;
        foreach (var c in Lorax("generate"))
            yield return c;
        foreach (var c in Lorax("generate_stream"))
            yield return c;
        foreach (var c in Management())
            yield return c;
        foreach (var c in Tokenizer())
            yield return c;
    }

    private static IEnumerable<BadInputCase> Tokenizer()
    {
        var tokenize = new (string Field, IEnumerable<(string, string?)> Values)[]
        {
            ("model", [.. NotAString, .. BadNames]),
            ("prompt", [("absent", null), ("a number", "1"), ("an object", "{}"), ("an array", "[\"a\"]")]),
            ("messages", [("a string", "\"x\""), ("beside a prompt", "[{\"role\":\"user\",\"content\":\"b\"}]")]),
            ("add_special_tokens", NotABool!),
            ("add_generation_prompt", [.. NotABool, ("with a prompt", "true")]),
            ("tools", [("a string", "\"x\""), ("with a prompt", "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]")]),
        };
        foreach (var (field, values) in tokenize)
        {
            foreach (var (label, raw) in values)
                yield return Field("tokenize", "tokenize", JsonBodies.Tokenize, field, label, raw);
        }
        var detokenize = new (string Field, IEnumerable<(string, string?)> Values)[]
        {
            ("model", [.. NotAString, ("path traversal", "\"../x\"")]),
            ("tokens", [("absent", null), ("null", "null"), ("a string", "\"x\""), ("an object", "{}"), ("[-1]", "[-1]"), ("[\"1\"]", "[\"1\"]"), ("[1.5]", "[1.5]"), ("[null]", "[null]"), ("an id past the vocabulary", "[1,99999999]"), ("2^31", "[2147483648]")]),
        };
        foreach (var (field, values) in detokenize)
        {
            foreach (var (label, raw) in values)
                yield return Field("detokenize", "detokenize", JsonBodies.Detokenize, field, label, raw);
        }
    }

    private static IEnumerable<BadInputCase> OpenAiCommon(string endpoint, string path, Func<JsonObject> body)
    {
        var fields = new (string Field, IEnumerable<(string, string)> Values)[]
        {
            ("model", [.. NotAString, .. BadNames]),
            ("max_tokens", [.. NotAnInt, ("0", "0"), ("-1", "-1"), ("5000 (over the context)", "5000"), ("2^31-1", "2147483647")]),
            ("temperature", [.. NotAFloat, ("-0.01", "-0.01"), ("2.01", "2.01"), ("1e39 (past float)", "1e39"), ("-1e39", "-1e39")]),
            ("top_p", [.. NotAFloat, ("0", "0"), ("-0.5", "-0.5"), ("1.01", "1.01")]),
            ("top_k", [.. NotAnInt, ("-2", "-2"), ("-(2^31)", "-2147483648")]),
            ("repetition_penalty", [.. NotAFloat, ("0", "0"), ("-1", "-1"), ("1e39", "1e39")]),
            ("seed", NotALong),
            ("stop", NotStops),
            ("presence_penalty", [.. NotAFloat, ("2.5", "2.5"), ("-2.5", "-2.5")]),
            ("frequency_penalty", [.. NotAFloat, ("2.5", "2.5"), ("-2.5", "-2.5")]),
            ("ignore_eos", NotABool),
            ("n", [.. NotAnInt, ("0", "0"), ("17", "17"), ("-1", "-1")]),
            ("logit_bias", [("a string", "\"x\""), ("a number", "1"), ("an array", "[1]"), ("a bias (unsupported)", "{\"50256\": -100}")]),
            ("stream", [.. NotABool, ("null", "null")]),
            ("stream_options", [.. NotAnObject, ("include_usage a string", "{\"include_usage\": \"yes\"}"), ("include_usage null", "{\"include_usage\": null}")]),
            ("user", NotAString),
        };
        foreach (var (field, values) in fields)
        {
            foreach (var (label, raw) in values)
                yield return Field(endpoint, path, body, field, label, raw);
        }
        yield return new BadInputCase($"{endpoint}: model = an unknown adapter", HttpMethod.Post, path)
        {
            Content = () => JsonBodies.Json(JsonBodies.With(body(), "model", "\"bad-input-no-such-adapter\"")),
            Statuses = [404], Param = ParamRule.Exactly("model"), Code = "model_not_found",
        };
    }

    private static IEnumerable<BadInputCase> Chat()
    {
        const string e = "chat", p = "v1/chat/completions";
        var messages = new (string Label, string? Raw, string Param)[]
        {
            ("absent", null, "messages"), ("null", "null", "messages"), ("empty", "[]", "messages"), ("an object", "{}", "messages"),
            ("a string", "\"hi\"", "messages"), ("a number", "1", "messages"),
            ("[null]", "[null]", "messages[0]"), ("[1]", "[1]", "messages[0]"), ("[\"hi\"]", "[\"hi\"]", "messages[0]"), ("[[]]", "[[]]", "messages[0]"),
            ("a second message null", "[{\"role\":\"user\",\"content\":\"hi\"}, null]", "messages[1]"),
            ("a message without role", "[{\"content\":\"x\"}]", "messages[0].role"),
            ("role function (legacy)", "[{\"role\":\"function\",\"content\":\"x\"}]", "messages[0].role"),
            ("tool_calls on a user turn", "[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]", "messages[0].tool_calls"),
            ("tool_calls arguments not JSON", "[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{x\"}}]}]", "messages[0].tool_calls[0]"),
            ("role USER", "[{\"role\":\"USER\",\"content\":\"x\"}]", "messages[0].role"),
            ("role a number", "[{\"role\":1,\"content\":\"x\"}]", "messages[0].role"),
            ("role null", "[{\"role\":null,\"content\":\"x\"}]", "messages[0].role"),
            ("role 1000 characters", $"[{{\"role\":\"{new string('r', 1000)}\",\"content\":\"x\"}}]", "messages[0].role"),
            ("a message without content", "[{\"role\":\"user\"}]", "messages[0].content"),
            ("content null", "[{\"role\":\"user\",\"content\":null}]", "messages[0].content"),
            ("content a number", "[{\"role\":\"user\",\"content\":1}]", "messages[0].content"),
            ("content an object", "[{\"role\":\"user\",\"content\":{}}]", "messages[0].content"),
            ("content [1]", "[{\"role\":\"user\",\"content\":[1]}]", "messages[0].content"),
            ("content [null]", "[{\"role\":\"user\",\"content\":[null]}]", "messages[0].content"),
            ("content an image part", "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://127.0.0.1/x.png\"}}]}]", "messages[0].content"),
            ("content a part whose type is a number", "[{\"role\":\"user\",\"content\":[{\"type\":5,\"text\":\"x\"}]}]", "messages[0].content"),
            ("content a part whose text is a number", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]", "messages[0].content"),
            ("content a part without text", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]", "messages[0].content"),
            ("refusal a number", "[{\"role\":\"assistant\",\"content\":\"x\",\"refusal\":5}]", "messages[0].refusal"),
        };
        foreach (var (label, raw, param) in messages)
        {
            yield return new BadInputCase($"{e}: messages = {label}", HttpMethod.Post, p)
            {
                Content = () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages", raw)),
                Param = ParamRule.Exactly(param),
            };
        }
        var fields = new (string Field, IEnumerable<(string, string)> Values)[]
        {
            ("max_completion_tokens", [.. NotAnInt, ("0", "0"), ("-1", "-1"), ("3 against max_tokens 2", "3")]),
            ("logprobs", NotABool),
            ("top_logprobs", [.. NotAnInt, ("-1", "-1"), ("21", "21"), ("3 without logprobs", "3")]),
            ("audio", [("an object (unsupported)", "{\"voice\":\"alloy\",\"format\":\"wav\"}")]),
            ("modalities", [("a string", "\"text\""), ("audio (unsupported)", "[\"text\",\"audio\"]")]),
            ("web_search_options", [("an object (unsupported)", "{}")]),
            ("function_call", [("a named function (unsupported)", "{\"name\":\"f\"}")]),
            ("tools", [("a string", "\"x\""), ("a number", "1"), ("an object", "{}"), ("a function without a name", "[{\"type\":\"function\",\"function\":{}}]"), ("a non-function tool", "[{\"type\":\"retrieval\",\"function\":{\"name\":\"f\"}}]")]),
            ("tool_choice", [("a number", "1"), ("an unknown mode", "\"sometimes\""), ("required without tools", "\"required\""), ("a function not among the tools", "{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}")]),
            ("functions", [("a string", "\"x\""), ("an object", "{}"), ("a function (unsupported)", "[{\"name\":\"f\"}]")]),
            ("response_format", [("a string", "\"json\""), ("a number", "1"), ("an array", "[]"), ("json_schema without a schema", "{\"type\":\"json_schema\"}"), ("a schema with an unenforced keyword", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"array\",\"uniqueItems\":true}}}"), ("a pattern with a lookahead", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"string\",\"pattern\":\"(?=a)\"}}}"), ("type a number", "{\"type\":5}"), ("no type", "{}")]),
        };
        foreach (var (field, values) in fields)
        {
            foreach (var (label, raw) in values)
                yield return Field(e, p, JsonBodies.Chat, field, label, raw);
        }
    }

    private static IEnumerable<BadInputCase> Completions()
    {
        const string e = "completions", p = "v1/completions";
        var fields = new (string Field, IEnumerable<(string, string?)> Values)[]
        {
            ("prompt", [("absent", null), ("null", "null"), ("a number", "1"), ("an object", "{}"), ("empty array", "[]"), ("two prompts", "[\"a\",\"b\"]"), ("[1]", "[1]"), ("[null]", "[null]"), ("token ids", "[[1,2,3]]"), ("empty", "\"\"")]),
            ("logprobs", [.. NotAnInt, ("-1", "-1"), ("21", "21")]),
            ("suffix", [.. NotAString, ("a suffix (unsupported)", "\"end\"")]),
            ("best_of", [.. NotAnInt, ("0", "0"), ("17", "17")]),
            ("echo", [.. NotABool, ("null", "null")]),
            ("model", [("a number", "1"), ("path traversal", "\"../x\""), ("129 characters", $"\"{new string('m', 129)}\"")]),
            ("max_tokens", [("a string", "\"2\""), ("0", "0"), ("5000", "5000")]),
            ("temperature", [("1e309", "1e309"), ("3", "3")]),
            ("stop", [("[null]", "[null]"), ("five sequences", "[\"a\",\"b\",\"c\",\"d\",\"e\"]")]),
            ("stream_options", [("a string", "\"x\"")]),
        };
        foreach (var (field, values) in fields)
        {
            foreach (var (label, raw) in values)
                yield return Field(e, p, JsonBodies.Completion, field, label, raw);
        }
    }

    private static IEnumerable<BadInputCase> Lorax(string e)
    {
        bool full = e == "generate"; // every field on /generate; the stream endpoint shares the code, so a sample there
        var fields = new List<(string Field, IEnumerable<(string, string?)> Values)>
        {
            ("inputs", [("absent", null), ("null", "null"), ("empty", "\"\""), ("a number", "1"), ("an array", "[\"hi\"]"), ("an object", "{}")]),
            ("parameters", NotAnObject!),
            ("parameters.max_new_tokens", [.. NotAnInt, ("0", "0"), ("-1", "-1"), ("5000", "5000")]),
            ("parameters.temperature", [.. NotAFloat, ("0", "0"), ("-1", "-1"), ("1e39", "1e39")]),
        };
        if (full)
        {
            fields.AddRange(
            [
                ("parameters.adapter_id", [.. NotAString, .. BadNames]),
                ("parameters.adapter_source", [.. NotAString, ("s3", "\"s3\""), ("LOCAL", "\"LOCAL\""), ("1000 characters", $"\"{new string('s', 1000)}\"")]),
                ("parameters.top_k", [.. NotAnInt, ("0", "0"), ("-1", "-1")]),
                ("parameters.top_p", [.. NotAFloat, ("0", "0"), ("1", "1"), ("1.5", "1.5")]),
                ("parameters.repetition_penalty", [.. NotAFloat, ("0", "0"), ("-1", "-1")]),
                ("parameters.do_sample", [.. NotABool, ("null", "null")]),
                ("parameters.seed", NotALong!),
                ("parameters.stop", [("a number", "1"), ("[1]", "[1]"), ("[null]", "[null]"), ("[\"\"]", "[\"\"]")]),
                ("parameters.details", [.. NotABool, ("null", "null")]),
                ("parameters.return_full_text", NotABool!),
                ("parameters.top_n_tokens", [.. NotAnInt, ("-1", "-1"), ("21", "21")]),
                ("parameters.decoder_input_details", NotABool!), // true is supported on /generate (details.prefill)
                ("parameters.best_of", [.. NotAnInt, ("0", "0"), ("2 (unsupported)", "2")]),
                ("parameters.typical_p", [.. NotAFloat, ("0.5 (unsupported)", "0.5")]),
                ("parameters.watermark", [.. NotABool, ("true (unsupported)", "true")]),
                ("parameters.adapter_parameters", [("a string", "\"x\""), ("merged adapters (unsupported)", "{\"adapter_ids\":[\"a\",\"b\"]}")]),
            ]);
        }
        else
        {
            fields.Add(("parameters.decoder_input_details", [("true (not streamed, as TGI)", "true")]));
        }
        foreach (var (field, values) in fields)
        {
            foreach (var (label, raw) in values)
                yield return Field(e, e, JsonBodies.Lorax, field, label, raw);
        }
        if (!full)
            yield break;
        yield return new BadInputCase($"{e}: parameters.adapter_id = an unknown adapter", HttpMethod.Post, e)
        {
            Content = () => JsonBodies.Json(JsonBodies.With(JsonBodies.Lorax(), "parameters.adapter_id", "\"bad-input-no-such-adapter\"")),
            Statuses = [404], Param = ParamRule.Exactly("parameters.adapter_id"), Code = "model_not_found",
        };
        // adapter_source "local": the id is a path under the adapter store; nothing may leave the root.
        var local = new (string Label, string Raw, int Status)[]
        {
            ("an absolute path", "\"/etc\"", 400), ("dot-dot", "\"../../etc\"", 400), ("dot-dot after a name", "\"demo-sql/../../x\"", 400),
            ("a NUL", "\"demo\\u0000sql\"", 400), ("a hidden segment", "\"a/.git\"", 400), ("a backslash traversal", "\"..\\\\..\\\\etc\"", 400),
            ("a missing directory", "\"bad-input/none\"", 404), ("300 segments", $"\"{string.Join('/', Enumerable.Repeat("a", 300))}\"", 404),
        };
        foreach (var (label, raw, status) in local)
        {
            yield return new BadInputCase($"{e}: local adapter_id = {label}", HttpMethod.Post, e)
            {
                Content = () =>
                {
                    var body = JsonBodies.Lorax();
                    body["parameters"]!["adapter_source"] = "local";
                    return JsonBodies.Json(JsonBodies.With(body, "parameters.adapter_id", raw));
                },
                // A missing directory may also be refused as an invalid path; never anything but a 4xx naming the field.
                Statuses = status == 404 ? [400, 404] : [400], Param = ParamRule.Exactly("parameters.adapter_id"),
            };
        }
    }

    private static IEnumerable<BadInputCase> Management()
    {
        const string load = "v1/load_lora_adapter", unload = "v1/unload_lora_adapter";
        foreach (var (label, raw) in new (string, string?)[] { ("absent", null), ("null", "null"), ("empty", "\"\""), ("the base model's name", "\"tiny\"") }.Concat(NotAString.Concat(BadNames).Select(v => (v.Label, (string?)v.Raw))))
            yield return Field("load", load, JsonBodies.Load, "lora_name", label, raw);
        var paths = new (string Label, string Raw, int[] Statuses)[]
        {
            ("a number", "1", [400]), ("an object", "{}", [400]), ("an absolute path", "\"/etc\"", [400]), ("dot-dot", "\"../..\"", [400]),
            ("dot-dot after a name", "\"demo-sql/../../x\"", [400]), ("a NUL", "\"demo\\u0000sql\"", [400]), ("a hidden segment", "\".git\"", [400]),
            ("/proc/self", "\"/proc/self/root\"", [400]), ("a missing directory", "\"bad-input/none\"", [404]), ("5000 characters", $"\"{new string('p', 5000)}\"", [400, 404]),
            ("a file, not a directory", "\"demo-sql/adapter_config.json\"", [400, 404]),
        };
        foreach (var (label, raw, statuses) in paths)
        {
            var c = Field("load", load, JsonBodies.Load, "lora_path", label, raw);
            yield return c with { Statuses = statuses, Code = statuses is [404] ? "adapter_path_not_found" : null };
        }
        foreach (var (label, raw) in new (string, string?)[] { ("absent", null), ("null", "null"), ("a number", "1"), ("path traversal", "\"../x\""), ("a trailing newline", "\"demo-sql\\n\"") })
            yield return Field("unload", unload, JsonBodies.Unload, "lora_name", label, raw);
        yield return Field("unload", unload, JsonBodies.Unload, "lora_name", "an unknown adapter", "\"bad-input-no-such-adapter\"") with { Statuses = [404], Code = "model_not_found" };
    }

    private static BadInputCase Field(string endpoint, string path, Func<JsonObject> body, string field, string label, string? raw) =>
        new($"{endpoint}: {field} = {label}", HttpMethod.Post, path)
        {
            Content = () => JsonBodies.Json(JsonBodies.With(body(), field, raw)),
            Param = ParamRule.Within(field),
        };
}
