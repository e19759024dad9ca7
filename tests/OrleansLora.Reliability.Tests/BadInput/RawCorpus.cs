using System.Text;

namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>
/// Bodies that are broken as a whole: malformed and truncated JSON, deep nesting, huge strings, invalid UTF-8 and
/// lone surrogates, wrong content types, and bodies over <c>MaxRequestBodyBytes</c>.
/// </summary>
public static class RawCorpus
{
    /// <summary>The gateway's default <c>OrleansLora:Gateway:MaxRequestBodyBytes</c> (the fixture keeps it).</summary>
    public const int BodyLimit = 8 * 1024 * 1024;

    private static readonly (string Endpoint, string Path, Func<string> Valid)[] JsonEndpoints =
    [
        ("chat", "v1/chat/completions", () => JsonBodies.Chat().ToJsonString()),
        ("completions", "v1/completions", () => JsonBodies.Completion().ToJsonString()),
        ("generate", "generate", () => JsonBodies.Lorax().ToJsonString()),
        ("generate_stream", "generate_stream", () => JsonBodies.Lorax().ToJsonString()),
        ("load", "v1/load_lora_adapter", () => JsonBodies.Load().ToJsonString()),
        ("unload", "v1/unload_lora_adapter", () => JsonBodies.Unload().ToJsonString()),
    ];

    /// <summary>Not JSON, or JSON of the wrong kind at the top: 400 without a field.</summary>
    private static readonly (string Label, string Body)[] Malformed =
    [
        ("an empty body", ""), ("whitespace", "  \n "), ("an open brace", "{"), ("a close brace", "}"), ("an open bracket", "["),
        ("a key without value", "{\"model\":"), ("an unterminated string", "{\"model\":\"x"), ("a trailing comma", "{\"model\":\"x\",}"),
        ("single quotes", "{'model':'x'}"), ("two documents", "{}{}"), ("a bare word", "nul"), ("NaN", "{\"temperature\":NaN}"),
        ("Infinity", "{\"temperature\":Infinity}"), ("a leading zero", "{\"max_tokens\":01}"), ("a bare fraction", "{\"temperature\":.5}"),
        ("a comment", "/* hi */{}"), ("a string", "\"hello\""), ("a number", "123"), ("an array", "[]"), ("null", "null"), ("true", "true"),
        ("a bad escape", "{\"model\":\"\\x41\"}"), ("a raw tab in a string", "{\"model\":\"a\tb\"}"), ("a short unicode escape", "{\"model\":\"\\u12\"}"),
        ("an unquoted key", "{model:\"x\"}"), ("a key that is a number", "{1:2}"),
    ];

    public static IEnumerable<BadInputCase> All()
    {
        foreach (var (label, body) in Malformed)
            yield return Case($"chat: body = {label}", "v1/chat/completions", () => JsonBodies.Json(body), [400], ParamRule.None);
        foreach (var (endpoint, path, valid) in JsonEndpoints)
        {
            foreach (var (label, body) in Malformed.Where(m => m.Label is "an empty body" or "an open brace" or "NaN" or "an array" or "null"))
            {
                if (endpoint != "chat")
                    yield return Case($"{endpoint}: body = {label}", path, () => JsonBodies.Json(body), [400], ParamRule.None);
            }
            foreach (double at in new[] { 0.1, 0.5, 0.9 })
                yield return Case($"{endpoint}: a body cut at {(int)(at * 100)}%", path, () => { string v = valid(); return JsonBodies.Json(v[..(int)(v.Length * at)]); }, [400], ParamRule.None);
            yield return Case($"{endpoint}: a body cut one byte short", path, () => { string v = valid(); return JsonBodies.Json(v[..^1]); }, [400], ParamRule.None);
        }
        foreach (var c in Nesting())
            yield return c;
        foreach (var c in HugeValues())
            yield return c;
        foreach (var c in Encodings())
            yield return c;
        foreach (var c in ContentTypes())
            yield return c;
        foreach (var c in Oversized())
            yield return c;
    }

    private static IEnumerable<BadInputCase> Nesting()
    {
        string Deep(string open, string close, int depth, string inner = "1") => string.Concat(Enumerable.Repeat(open, depth)) + inner + string.Concat(Enumerable.Repeat(close, depth));
        yield return Case("chat: 10,000 nested arrays", "v1/chat/completions", () => JsonBodies.Json(Deep("[", "]", 10_000)), [400], ParamRule.None);
        yield return Case("chat: 10,000 nested objects", "v1/chat/completions", () => JsonBodies.Json(Deep("{\"a\":", "}", 10_000)), [400], ParamRule.None);
        yield return Case("generate: 100,000 open brackets", "generate", () => JsonBodies.Json(new string('[', 100_000)), [400], ParamRule.None);
        yield return Case("chat: messages nested 10,000 deep", "v1/chat/completions",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages", Deep("[", "]", 10_000))), [400], ParamRule.None);
        // Deep but within the parser's depth: the field's type is wrong, and it is named.
        yield return Case("chat: stop nested 60 deep", "v1/chat/completions",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "stop", Deep("[", "]", 60, "\"x\""))), [400], ParamRule.Within("stop"));
        yield return Case("chat: tools nested 60 deep", "v1/chat/completions",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "tools", Deep("[", "]", 60))), [400], ParamRule.Within("tools"));
        yield return Case("chat: content parts nested 60 deep", "v1/chat/completions",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages[0].content", Deep("[", "]", 60, "\"x\""))), [400], ParamRule.Within("messages[0]"));
        yield return Case("generate: parameters nested 60 deep", "generate",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Lorax(), "parameters", Deep("{\"a\":", "}", 60))), [200], ParamRule.None);
    }

    private static IEnumerable<BadInputCase> HugeValues()
    {
        string Big(char c, int n) => $"\"{new string(c, n)}\"";
        const int mb = 1024 * 1024;
        yield return Case("chat: model of 1 MB", "v1/chat/completions", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "model", Big('m', mb))), [400], ParamRule.Exactly("model"));
        // Prompts of 4 MB: far past what any prompt that fits could hold, refused before tokenizing (issue 12 item 10).
        yield return Case("chat: content of 4 MB", "v1/chat/completions", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages[0].content", Big('a', 4 * mb))), [413], ParamRule.Exactly("messages"), "context_length_exceeded");
        yield return Case("chat: 2,000 messages of 2 KB", "v1/chat/completions",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages", "[" + string.Join(',', Enumerable.Repeat($"{{\"role\":\"user\",\"content\":{Big('b', 2048)}}}", 2000)) + "]")), [413], ParamRule.Exactly("messages"), "context_length_exceeded");
        // Many empty messages: little text, but each message takes a token; refused before the template renders them.
        foreach (int n in new[] { 2_000, 200_000 })
        {
            yield return Case($"chat: {n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} empty messages", "v1/chat/completions",
                () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages", "[" + string.Join(',', Enumerable.Repeat("{\"role\":\"user\",\"content\":\"\"}", n)) + "]")), [413], ParamRule.Exactly("messages"), "context_length_exceeded");
        }
        yield return Case("completions: prompt of 4 MB", "v1/completions", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Completion(), "prompt", Big('a', 4 * mb))), [413], ParamRule.Exactly("prompt"), "context_length_exceeded");
        yield return Case("generate: inputs of 4 MB", "generate", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Lorax(), "inputs", Big('a', 4 * mb))), [413], ParamRule.Exactly("inputs"), "context_length_exceeded");
        yield return Case("generate_stream: inputs of 4 MB", "generate_stream", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Lorax(), "inputs", Big('a', 4 * mb))), [413], ParamRule.Exactly("inputs"), "context_length_exceeded");
        yield return Case("load: lora_name of 1 MB", "v1/load_lora_adapter", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Load(), "lora_name", Big('n', mb))), [400], ParamRule.Exactly("lora_name"));
        yield return Case("load: lora_path of 1 MB", "v1/load_lora_adapter", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Load(), "lora_path", Big('p', mb))), [400, 404], ParamRule.Exactly("lora_path"));
        yield return Case("chat: a stop sequence of 1 MB", "v1/chat/completions", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "stop", Big('s', mb))), [200, 400], ParamRule.Within("stop"));
        yield return Case("chat: 100,000 unknown fields", "v1/chat/completions",
            () => JsonBodies.Json("{" + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"\"f{i}\":{i},")) + JsonBodies.Chat().ToJsonString()[1..]), [200], ParamRule.None);
        yield return Case("generate: an unknown field of 4 MB", "generate", () => JsonBodies.Json(JsonBodies.With(JsonBodies.Lorax(), "junk", Big('j', 4 * mb))), [200], ParamRule.None);
    }

    private static IEnumerable<BadInputCase> Encodings()
    {
        byte[] Spliced(string before, byte[] bad, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];
        var invalid = new (string Label, byte[] Bytes)[]
        {
            ("byte 0xFF", [0xFF]), ("an overlong slash", [0xC0, 0xAF]), ("a truncated euro sign", [0xE2, 0x82]), ("an encoded surrogate", [0xED, 0xA0, 0x80]),
            ("a lone continuation byte", [0x80]), ("a 5-byte sequence", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("a code point past U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
        };
        foreach (var (label, bytes) in invalid)
        {
            yield return Case($"chat: content with {label}", "v1/chat/completions",
                () => JsonBodies.Bytes(Spliced("{\"model\":\"demo-sql\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"a", bytes, "b\"}]}")), [400], ParamRule.Any);
        }
        yield return Case("chat: model with byte 0xFF", "v1/chat/completions", () => JsonBodies.Bytes(Spliced("{\"model\":\"demo", [0xFF], "\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}")), [400], ParamRule.Any);
        yield return Case("generate: inputs with an encoded surrogate", "generate", () => JsonBodies.Bytes(Spliced("{\"inputs\":\"a", [0xED, 0xB0, 0x80], "\"}")), [400], ParamRule.Any);
        yield return Case("load: lora_name with byte 0xFE", "v1/load_lora_adapter", () => JsonBodies.Bytes(Spliced("{\"lora_name\":\"a", [0xFE], "\"}")), [400], ParamRule.Any);
        yield return Case("chat: byte 0xFF outside any string", "v1/chat/completions", () => JsonBodies.Bytes(Spliced("{\"model\":\"demo-sql\",", [0xFF], "}")), [400], ParamRule.None);
        var surrogates = new (string Label, string Field, Func<System.Text.Json.Nodes.JsonObject> Body, string Path, string Raw)[]
        {
            ("chat: content with a lone high surrogate", "messages[0].content", JsonBodies.Chat, "v1/chat/completions", "\"a\\ud800b\""),
            ("chat: content with a lone low surrogate", "messages[0].content", JsonBodies.Chat, "v1/chat/completions", "\"a\\udc00\""),
            ("chat: content with a reversed pair", "messages[0].content", JsonBodies.Chat, "v1/chat/completions", "\"\\ude00\\ud83d\""),
            ("chat: model with a lone surrogate", "model", JsonBodies.Chat, "v1/chat/completions", "\"demo\\ud800\""),
            ("chat: stop with a lone surrogate", "stop", JsonBodies.Chat, "v1/chat/completions", "[\"\\ud800\"]"),
            ("completions: prompt with a lone surrogate", "prompt", JsonBodies.Completion, "v1/completions", "\"\\udbff\""),
            ("generate: inputs with a lone surrogate", "inputs", JsonBodies.Lorax, "generate", "\"x\\ud800\""),
            ("generate: adapter_id with a lone surrogate", "parameters.adapter_id", JsonBodies.Lorax, "generate", "\"\\ud800\""),
            ("load: lora_path with a lone surrogate", "lora_path", JsonBodies.Load, "v1/load_lora_adapter", "\"a\\udfff\""),
        };
        foreach (var (label, field, body, path, raw) in surrogates)
            yield return Case(label, path, () => JsonBodies.Json(JsonBodies.With(body(), field, raw)), [400], ParamRule.Any);
        // Valid but unusual text is served.
        yield return Case("chat: content with a NUL, an emoji and a BOM", "v1/chat/completions",
            () => JsonBodies.Json(JsonBodies.With(JsonBodies.Chat(), "messages[0].content", "\"a\\u0000\\ud83d\\ude00\\ufeffb\"")), [200], ParamRule.None);
        yield return Case("chat: a body that starts with a UTF-8 BOM", "v1/chat/completions",
            () => JsonBodies.Bytes([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(JsonBodies.Chat().ToJsonString())]), [200, 400], ParamRule.None);
        yield return Case("chat: a UTF-16 body", "v1/chat/completions",
            () => JsonBodies.Bytes(Encoding.Unicode.GetBytes(JsonBodies.Chat().ToJsonString()), "application/json; charset=utf-16"), [400], ParamRule.None);
    }

    private static IEnumerable<BadInputCase> ContentTypes()
    {
        string chat = JsonBodies.Chat().ToJsonString();
        // JSON is read whatever the Content-Type says (curl -d sends a form type): a JSON body is served...
        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "application/xml", "application/json; charset=latin1", "garbage/;;;" })
            yield return Case($"chat: a JSON body as {type}", "v1/chat/completions", () => JsonBodies.Json(chat, type), [200], ParamRule.None);
        yield return Case("chat: a JSON body without Content-Type", "v1/chat/completions", () => JsonBodies.Bytes(Encoding.UTF8.GetBytes(chat), null), [200], ParamRule.None);
        // ...and a body that is not JSON is a 400 whose message names the content type.
        yield return Case("chat: a form body", "v1/chat/completions", () => JsonBodies.Json("model=demo-sql&messages=hi", "application/x-www-form-urlencoded"), [400], ParamRule.None);
        yield return Case("chat: a multipart body", "v1/chat/completions", () =>
        {
            var form = new MultipartFormDataContent { { new StringContent("demo-sql"), "model" }, { new StringContent("hi"), "messages" } };
            return form;
        }, [400], ParamRule.None);
        yield return Case("generate: an XML body", "generate", () => JsonBodies.Json("<inputs>hi</inputs>", "application/xml"), [400], ParamRule.None);
        yield return Case("load: a text body", "v1/load_lora_adapter", () => JsonBodies.Json("demo-sql", "text/plain"), [400], ParamRule.None);
    }

    private static IEnumerable<BadInputCase> Oversized()
    {
        // A valid chat padded with spaces (JSON whitespace) to exactly n bytes.
        HttpContent Padded(int n, bool chunked = false)
        {
            byte[] body = Encoding.UTF8.GetBytes(JsonBodies.Chat().ToJsonString());
            byte[] padded = new byte[n];
            Array.Fill(padded, (byte)' ');
            body.CopyTo(padded, 0);
            if (!chunked)
                return JsonBodies.Bytes(padded);
            var stream = new StreamContent(new MemoryStream(padded)); // no Content-Length: sent chunked
            stream.Headers.ContentType = new("application/json");
            return stream;
        }
        const string tooLarge = "request_too_large";
        yield return Case("chat: a body of exactly the limit", "v1/chat/completions", () => Padded(BodyLimit), [200], ParamRule.None);
        yield return Case("chat: a body one byte over the limit", "v1/chat/completions", () => Padded(BodyLimit + 1), [413], ParamRule.None, tooLarge);
        yield return Case("chat: a body of 40 MB", "v1/chat/completions", () => Padded(40_000_000), [413], ParamRule.None, tooLarge);
        yield return Case("chat: a chunked body of 40 MB", "v1/chat/completions", () => Padded(40_000_000, chunked: true), [413], ParamRule.None, tooLarge);
        foreach (var (endpoint, path, _) in JsonEndpoints.Where(e => e.Endpoint != "chat"))
            yield return Case($"{endpoint}: a body of 40 MB", path, () => Padded(40_000_000), [413], ParamRule.None, tooLarge);
    }

    private static BadInputCase Case(string name, string path, Func<HttpContent?> content, int[] statuses, ParamRule param, string? code = null) =>
        new(name, HttpMethod.Post, path) { Content = content, Statuses = statuses, Param = param, Code = code };
}
