namespace OrleansLora.Reliability.Tests.BadInput;

/// <summary>Which bearer key a case sends.</summary>
public enum CaseKey
{
    /// <summary>The API key (the admin key on the management endpoints), as a well-behaved client would.</summary>
    Default,
    None,
    User,
    Admin,
    /// <summary>The Authorization header given in <see cref="BadInputCase.Authorization"/>, sent unvalidated.</summary>
    Raw,
}

/// <summary>
/// One hostile request and what the server must answer: a status among <see cref="Statuses"/> and, for an error,
/// OpenAI's shape with <c>param</c> as <see cref="Param"/> says. Built by <see cref="BadInputCorpus"/>.
/// </summary>
public sealed record BadInputCase(string Name, HttpMethod Method, string Path)
{
    /// <summary>The body; null sends none. A factory, so a 40 MB body exists only while its case runs.</summary>
    public Func<HttpContent?> Content { get; init; } = () => null;

    public CaseKey Key { get; init; } = CaseKey.Default;

    /// <summary>The raw Authorization header value when <see cref="Key"/> is <see cref="CaseKey.Raw"/>.</summary>
    public string? Authorization { get; init; }

    /// <summary>The statuses that are right for this request (a client can act on each).</summary>
    public IReadOnlyList<int> Statuses { get; init; } = [400];

    /// <summary>The error's <c>param</c>; null means no field is to blame.</summary>
    public ParamRule Param { get; init; } = ParamRule.None;

    /// <summary>The error's <c>code</c> when one is required.</summary>
    public string? Code { get; init; }

    /// <summary>
    /// Kestrel refuses the request while parsing it (a path decoding to NUL, say), before any middleware can shape
    /// the answer: the status is checked, the body may be empty. Listed in docs/GATEWAY.md.
    /// </summary>
    public bool KestrelRefusal { get; init; }

    public override string ToString() => Name;
}

/// <summary>What an error's <c>param</c> must be.</summary>
public sealed record ParamRule(string? Field, bool Prefix)
{
    /// <summary>No field named: <c>param</c> is null.</summary>
    public static ParamRule None { get; } = new(null, false);

    /// <summary>Whatever the server names (the request is broken as a whole; which field it noticed first varies).</summary>
    public static ParamRule Any { get; } = new("*", true);

    /// <summary>Exactly this field.</summary>
    public static ParamRule Exactly(string field) => new(field, false);

    /// <summary>This field or a part of it (<c>stop</c>, <c>stop[1]</c>, <c>messages[0].content</c>).</summary>
    public static ParamRule Within(string field) => new(field, true);

    public bool Matches(string? param) => this switch
    {
        { Field: "*" } => true,
        { Field: null } => param is null,
        { Prefix: false } => param == Field,
        _ => param is not null && (param == Field || param.StartsWith(Field + "[", StringComparison.Ordinal) || param.StartsWith(Field + ".", StringComparison.Ordinal)),
    };

    public override string ToString() => Field is null ? "null" : Field == "*" ? "any" : Prefix ? $"{Field} or within it" : Field;
}
