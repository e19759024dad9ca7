namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>Keys (missing, wrong, odd schemes, user key on admin endpoints), unknown routes and methods, probes, and adapter names in URLs.</summary>
public static class RouteCorpus
{
    private static readonly (string Name, HttpMethod Method, string Path, bool Admin)[] Keyed =
    [
        ("chat", HttpMethod.Post, "v1/chat/completions", false), ("completions", HttpMethod.Post, "v1/completions", false),
        ("models", HttpMethod.Get, "v1/models", false), ("generate", HttpMethod.Post, "generate", false),
        ("generate_stream", HttpMethod.Post, "generate_stream", false), ("adapters", HttpMethod.Get, "v1/adapters", false),
        ("adapter", HttpMethod.Get, "v1/adapters/demo-sql", false), ("info", HttpMethod.Get, "info", false), ("metrics", HttpMethod.Get, "metrics", false),
        ("load", HttpMethod.Post, "v1/load_lora_adapter", true), ("unload", HttpMethod.Post, "v1/unload_lora_adapter", true),
        ("tokenize", HttpMethod.Post, "tokenize", false), ("detokenize", HttpMethod.Post, "detokenize", false),
        ("unknown route", HttpMethod.Get, "v1/nope", false),
    ];

    public static IEnumerable<BadInputCase> All()
    {
        foreach (var (name, method, path, admin) in Keyed)
        {
            Func<HttpContent?> body = method == HttpMethod.Post ? () => JsonBodies.Json(JsonBodies.Chat().ToJsonString()) : () => null;
            yield return new BadInputCase($"keys: {name} without a key", method, path) { Content = body, Key = CaseKey.None, Statuses = [401], Code = "missing_api_key" };
            yield return Raw($"keys: {name} with a wrong key", method, path, "Bearer not-a-key", 401, "invalid_api_key") with { Content = body };
            if (admin)
                yield return new BadInputCase($"keys: {name} with the user key", method, path) { Content = body, Key = CaseKey.User, Statuses = [403], Code = "admin_key_required" };
        }
        var headers = new (string Label, string Value, int Status, string? Code)[]
        {
            ("an empty bearer", "Bearer ", 401, "missing_api_key"), ("Basic auth", "Basic dXNlcjpwYXNz", 401, "missing_api_key"),
            ("a bare key", "reliability-user-key", 401, "missing_api_key"), ("a key of 10 KB", "Bearer " + new string('k', 10_000), 401, "invalid_api_key"),
            ("the key's prefix", "Bearer reliability-user", 401, "invalid_api_key"), ("the key and more", "Bearer reliability-user-key2", 401, "invalid_api_key"),
            ("two keys", "Bearer not-a-key, Bearer reliability-user-key", 401, "invalid_api_key"),
            ("a lower-case scheme", "bearer reliability-user-key", 200, null), ("padding around the key", "Bearer    reliability-user-key   ", 200, null),
        };
        foreach (var (label, value, status, code) in headers)
            yield return Raw($"keys: models with {label}", HttpMethod.Get, "v1/models", value, status, code);
        yield return new BadInputCase("keys: chat with the admin key", HttpMethod.Post, "v1/chat/completions")
        {
            Content = () => JsonBodies.Json(JsonBodies.Chat().ToJsonString()), Key = CaseKey.Admin, Statuses = [200],
        };
        foreach (var (label, path) in new[] { ("health", "health"), ("ready", "ready"), ("openapi", "openapi/v1.json"), ("health with a query", "health?x=%ff&y=" + new string('q', 2000)) })
            yield return new BadInputCase($"probes: {label} without a key", HttpMethod.Get, path) { Key = CaseKey.None, Statuses = [200] };
        yield return new BadInputCase("probes: metrics with the user key", HttpMethod.Get, "metrics") { Key = CaseKey.User, Statuses = [200] };
        yield return new BadInputCase("probes: info with the user key", HttpMethod.Get, "info") { Key = CaseKey.User, Statuses = [200] };

        var methods = new (string Method, string Path)[]
        {
            ("GET", "v1/chat/completions"), ("PUT", "v1/chat/completions"), ("DELETE", "v1/completions"), ("GET", "generate"), ("PATCH", "generate_stream"),
            ("GET", "v1/load_lora_adapter"), ("DELETE", "v1/unload_lora_adapter"), ("POST", "v1/models"), ("POST", "health"), ("PUT", "ready"),
            ("DELETE", "v1/adapters"), ("POST", "v1/adapters/demo-sql"), ("POST", "info"), ("POST", "metrics"), ("OPTIONS", "v1/chat/completions"),
            ("HEAD", "generate"), ("TRACE", "v1/models"), ("PROPFIND", "v1/models"),
        };
        foreach (var (method, path) in methods)
        {
            var m = new HttpMethod(method);
            yield return new BadInputCase($"routes: {method} /{path}", m, path) { Statuses = [405], Code = "method_not_allowed" };
        }
        var unknown = new[]
        {
            "nope", "v1", "v1/", "v2/chat/completions", "v1/chat/completions/extra", "v1/chat", "generate/extra", "%2e%2e/%2e%2e/etc/passwd",
            "v1/adapters/demo-sql/extra", "static/../../etc/passwd", "index.html.bak", "v1/models/demo-sql", "metrics/extra", ".env",
        };
        foreach (string path in unknown)
        {
            yield return new BadInputCase($"routes: GET /{path}", HttpMethod.Get, path) { Statuses = [404], Code = "not_found" };
            yield return new BadInputCase($"routes: POST /{path}", HttpMethod.Post, path) { Content = () => JsonBodies.Json("{}"), Statuses = [404, 405] };
        }
        var adapterIds = new (string Label, string Segment)[]
        {
            ("unknown", "bad-input-no-such-adapter"), ("dot-dot encoded", "..%2F..%2Fetc"), ("a NUL", "demo%00sql"), ("a trailing newline", "demo-sql%0A"),
            ("200 characters", new string('x', 200)), ("fullwidth", "%EF%BC%A4%EF%BC%A5%EF%BC%AD%EF%BC%AF"), ("invalid percent-encoding", "%ff%fe"),
            ("the base key", "~base"), ("spaces", "%20%20"), ("a control character", "demo%01sql"),
        };
        foreach (var (label, segment) in adapterIds)
        {
            yield return new BadInputCase($"routes: GET /v1/adapters/{{{label}}}", HttpMethod.Get, $"v1/adapters/{segment}")
            {
                // Kestrel itself refuses a path that decodes to a NUL (a bare 400 before any middleware runs). Otherwise
                // OpenAI's own answer to GET /v1/models/{unknown}: 404 model_not_found with param "model".
                Statuses = label == "a NUL" ? [400] : [404], Code = label == "a NUL" ? null : "model_not_found", KestrelRefusal = label == "a NUL",
                Param = label == "a NUL" ? ParamRule.None : ParamRule.Exactly("model"),
            };
        }
    }

    private static BadInputCase Raw(string name, HttpMethod method, string path, string authorization, int status, string? code) =>
        new(name, method, path) { Key = CaseKey.Raw, Authorization = authorization, Statuses = [status], Code = code };
}
